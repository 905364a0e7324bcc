-- What the server itself does to prove the same thing.
ALTER TABLE bench_child_copy VALIDATE CONSTRAINT bench_child_copy_parent_fk;
