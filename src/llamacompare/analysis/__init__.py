"""From stored answers to decisions: apply scorers to a run, then summarise it with statistics."""
