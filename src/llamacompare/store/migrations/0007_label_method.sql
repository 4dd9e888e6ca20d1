-- How each answer's label scores were obtained (models.capabilities.LabelMethod: exact, or read off the top
-- log-probs of the first answer tokens) and whether every label was among the listed alternatives (1/0), so that
-- every view can mark approximate scores. Answers stored before have NULL in both: unknown, never read as exact.
ALTER TABLE responses ADD COLUMN label_method TEXT;
ALTER TABLE responses ADD COLUMN label_covered INTEGER;
