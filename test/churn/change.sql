\set n random(1, 12)
\set w random(0, 3)
SELECT churn_step(:n, :w);
\sleep 10 ms
