-- Migration 55: a build knows the artifacts its flight's tests on its arch need
-- (the union of their jobs' `artifacts`), and the builder gets them in the build
-- attempt as "wants": a flight that only runs xen-smoke never builds the tools.
-- NULL: the three artifacts every build makes (xen, dom0-kernel, dom0-initrd).
ALTER TABLE builds ADD COLUMN wants TEXT;	-- JSON [name, ...]
