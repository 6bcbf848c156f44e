-- hotpath real-world benchmark: a fixed, deterministic SQLite workload.
-- Run as:  sqlite3 :memory: ".read bench.sql"
-- Everything is derived from integer arithmetic (no random(), no dates), so
-- the output is byte-identical on every run.  The database lives in memory:
-- the workload is CPU-bound (parser, VDBE, B-tree, sorter), not I/O-bound.

PRAGMA cache_size = -65536;

CREATE TABLE customer (
  id      INTEGER PRIMARY KEY,
  name    TEXT NOT NULL,
  region  INTEGER NOT NULL,
  score   INTEGER NOT NULL
);

CREATE TABLE orders (
  id       INTEGER PRIMARY KEY,
  cust     INTEGER NOT NULL REFERENCES customer(id),
  item     TEXT NOT NULL,
  qty      INTEGER NOT NULL,
  price    REAL NOT NULL,
  day      INTEGER NOT NULL
);

-- Bulk inserts inside one transaction.  h(x) = (x * 1103515245 + 12345) % 2^31
-- plays the role of a fixed-seed random number generator.
BEGIN;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000)
INSERT INTO customer(id, name, region, score)
SELECT x,
       printf('cust-%06d-%s', x, substr('abcdefghijklmnopqrstuvwxyz', 1 + (x * 7) % 26, 3)),
       ((x * 1103515245 + 12345) % 2147483648) % 50,
       ((x * 69069 + 1) % 2147483648) % 1000
FROM n;

WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 150000)
INSERT INTO orders(id, cust, item, qty, price, day)
SELECT x,
       1 + ((x * 1103515245 + 12345) % 2147483648) % 20000,
       'item-' || (((x * 69069 + 7) % 2147483648) % 500),
       1 + (x * 31) % 17,
       (((x * 214013 + 2531011) % 2147483648) % 100000) / 100.0,
       ((x * 2654435761) % 4294967296) % 365
FROM n;
COMMIT;

-- Row-at-a-time inserts through a trigger (exercises statement execution
-- per row rather than one bulk statement).
CREATE TABLE audit (id INTEGER PRIMARY KEY, order_id INTEGER, note TEXT);
CREATE TRIGGER orders_audit AFTER UPDATE OF qty ON orders
BEGIN
  INSERT INTO audit(order_id, note) VALUES (new.id, 'qty ' || old.qty || '->' || new.qty);
END;

-- Secondary indexes (sorting).
CREATE INDEX orders_cust ON orders(cust);
CREATE INDEX orders_item_day ON orders(item, day);
CREATE INDEX customer_region ON customer(region, score);

-- Indexed point lookups: 40000 probes through orders_cust.
WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < 40000)
SELECT 'lookup', count(*), sum(o.qty), round(sum(o.price), 2)
FROM k JOIN orders o ON o.cust = 1 + (k.x * 7919) % 20000;

-- Indexed range scans.
SELECT 'range', item, count(*), sum(qty), min(day), max(day)
FROM orders WHERE item BETWEEN 'item-100' AND 'item-105' AND day BETWEEN 30 AND 200
GROUP BY item ORDER BY item;

-- Join + aggregates.
SELECT 'region', c.region, count(*), sum(o.qty), round(avg(o.price), 4), max(c.score)
FROM orders o JOIN customer c ON c.id = o.cust
GROUP BY c.region ORDER BY c.region LIMIT 10;

-- Aggregates over an expression, with sorting.
SELECT 'top', cust, round(sum(qty * price), 2) AS spend
FROM orders GROUP BY cust ORDER BY spend DESC, cust LIMIT 5;

-- Window functions.
SELECT 'window', sum(r), count(*) FROM (
  SELECT row_number() OVER (PARTITION BY day ORDER BY price DESC, id) AS r
  FROM orders WHERE day < 120
) WHERE r <= 3;

-- String functions and LIKE.
SELECT 'strings', count(*), sum(length(name)), max(upper(substr(name, 6, 6)))
FROM customer WHERE name LIKE '%-b%' OR name GLOB '*xyz*';

-- Updates (fire the trigger) and deletes through indexes.
BEGIN;
UPDATE orders SET qty = qty + 1 WHERE cust % 10 = 3;
DELETE FROM orders WHERE day = 17 OR item = 'item-42';
COMMIT;

SELECT 'after', count(*), sum(qty), (SELECT count(*) FROM audit) FROM orders;

-- Correlated subquery using the index.
SELECT 'corr', count(*) FROM customer c
WHERE c.region < 10
  AND (SELECT count(*) FROM orders o WHERE o.cust = c.id) > 8;

-- DISTINCT / UNION / IN.
SELECT 'distinct', count(DISTINCT item), count(DISTINCT cust % 977) FROM orders;
SELECT 'in', count(*) FROM orders
WHERE cust IN (SELECT id FROM customer WHERE score > 990)
  AND item IN ('item-1', 'item-2', 'item-3', 'item-300');

PRAGMA integrity_check;
