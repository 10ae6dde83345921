INSERT INTO categories (name) VALUES ('tools'), ('books');
INSERT INTO items (name, price_cents, category_id) VALUES
  ('hammer', 1299, (SELECT id FROM categories WHERE name = 'tools')),
  ('wrench', 899, (SELECT id FROM categories WHERE name = 'tools')),
  ('The Pragmatic Programmer', 3999, (SELECT id FROM categories WHERE name = 'books'));
