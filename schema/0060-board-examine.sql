-- Migration 60: commissioning. What a board's examine job (a job with facts,
-- jobs/examine.yaml) found is kept as the board's properties, which jobs may
-- require (requires: {iommu: true}); a board whose last examine failed takes
-- no work but another examine, and shows why.
ALTER TABLE boards ADD COLUMN properties TEXT;	-- JSON {name: value} of the last passing examine
ALTER TABLE boards ADD COLUMN examine TEXT CHECK (examine IN ('pass', 'fail'));	-- NULL: never examined
ALTER TABLE boards ADD COLUMN examine_reason TEXT;
ALTER TABLE boards ADD COLUMN examine_attempt INTEGER;
