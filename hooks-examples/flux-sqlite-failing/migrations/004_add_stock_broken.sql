-- A migration with a mistake: `item` is not a table (it is `items`). sqlite3 stops at the
-- error, the transaction is rolled back, pre-deploy.sh exits non-zero, and the deploy aborts.
ALTER TABLE items ADD COLUMN stock INTEGER NOT NULL DEFAULT 0;
UPDATE item SET stock = 10;
