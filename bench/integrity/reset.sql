-- VALIDATE marks the copy's constraint valid; make it NOT VALID again.
ALTER TABLE bench_child_copy DROP CONSTRAINT bench_child_copy_parent_fk;
ALTER TABLE bench_child_copy ADD CONSTRAINT bench_child_copy_parent_fk
    FOREIGN KEY (parent_id) REFERENCES bench_parent NOT VALID;
