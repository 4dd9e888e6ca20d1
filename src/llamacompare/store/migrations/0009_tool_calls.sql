-- Tool calls: a tool_call task's answer is the functions the model called (llamacompare.toolcall.ToolCall: name,
-- arguments as the JSON text the model wrote, the provider's id), stored with the response as a JSON list so that
-- the cache gives them back and every view reads them. NULL: an answer in text only (and every answer before).
ALTER TABLE responses ADD COLUMN tool_calls TEXT;
