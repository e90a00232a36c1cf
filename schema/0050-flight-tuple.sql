-- Migration 50: a flight's revision is a tuple of trees' revisions. The flight's
-- own revision (revision_id) is the tree that moves (its branch's, a submission's,
-- a bisection step's); every other configured tree is taken at its last tested
-- revision, resolved when the flight is made and kept here as JSON:
--   {"xen": {"commit": HEX, "kind": "xen", "ref": "refs/heads/master", "moves": false},
--    "linux": {"commit": HEX, "kind": "linux", "moves": true}}
-- NULL for a flight made before (or by a controller with no trees configured):
-- its tuple is its own revision alone.
ALTER TABLE flights ADD COLUMN tuple TEXT;
