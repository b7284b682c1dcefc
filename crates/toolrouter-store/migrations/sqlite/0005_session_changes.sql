-- Nothing to store: SQLite processes learn of session writes from the `<database>-sessions`
-- file each writer rewrites after its commit (src/changes.rs). This keeps the migration
-- numbering paired with PostgreSQL's 0005, which adds the notifying trigger.
SELECT 1;
