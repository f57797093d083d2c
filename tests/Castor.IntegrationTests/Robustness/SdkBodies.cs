namespace Castor.IntegrationTests.Robustness;

/// <summary>
/// Request bodies as the SDKs send them (research/wire-contract.md §2.1–2.3, plus the snake_case forms the Python SDK and
/// curl examples use), trimmed of the features Castor refuses by name (tools, cachedContent, structured output) so that,
/// unmutated, each one generates. Every one caps maxOutputTokens, so a mutation that keeps a body valid stays cheap.
/// </summary>
public static class SdkBodies
{
    public sealed record Sample(string Name, string Json, bool CountTokens = false);

    public static readonly IReadOnlyList<Sample> All =
    [
        new("genai:generateContent:text",
            """{"contents":[{"parts":[{"text":"Say hello"}],"role":"user"}],"generationConfig":{"maxOutputTokens":4}}"""),
        new("aisdk:generateText",
            """{"generationConfig":{"maxOutputTokens":6,"temperature":0.3,"topK":20,"topP":0.9,"stopSequences":["END"],"seed":7},"contents":[{"role":"user","parts":[{"text":"Say hello"}]}],"systemInstruction":{"parts":[{"text":"You are terse."}]}}"""),
        new("genai:chats.sendMessage",
            """{"contents":[{"parts":[{"text":"hi"}],"role":"user"},{"parts":[{"text":"hello"}],"role":"model"},{"parts":[{"text":"how are you?"}],"role":"user"}],"generationConfig":{"maxOutputTokens":5}}"""),
        new("langchain:invoke",
            """{"generationConfig":{"stopSequences":[],"maxOutputTokens":6,"temperature":0.3},"safetySettings":[],"systemInstruction":{"role":"system","parts":[{"text":"You are terse."}]},"contents":[{"role":"user","parts":[{"text":"Say hello"}]}]}"""),
        new("genai:generateContent:full-config",
            """{"contents":[{"parts":[{"text":"What is the weather in Paris?"}],"role":"user"}],"systemInstruction":{"parts":[{"text":"You are a terse assistant."}],"role":"user"},"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_ONLY_HIGH"},{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","threshold":"BLOCK_NONE"}],"generationConfig":{"temperature":0.2,"topP":0.9,"topK":40,"candidateCount":1,"maxOutputTokens":5,"stopSequences":["END"],"responseLogprobs":false,"presencePenalty":0.1,"frequencyPenalty":0.1,"seed":42,"thinkingConfig":{"thinkingBudget":1024,"includeThoughts":true}}}"""),
        new("aisdk:generateText:providerOptions(thinking,safety)",
            """{"generationConfig":{"maxOutputTokens":4,"responseModalities":["TEXT"],"thinkingConfig":{"thinkingBudget":512,"includeThoughts":true}},"contents":[{"role":"user","parts":[{"text":"Think"}]}],"safetySettings":[{"category":"HARM_CATEGORY_HATE_SPEECH","threshold":"BLOCK_LOW_AND_ABOVE"}]}"""),
        new("genai:generateContent:thinkingLevel",
            """{"contents":[{"parts":[{"text":"hi"}],"role":"user"}],"generationConfig":{"maxOutputTokens":3,"thinkingConfig":{"thinkingLevel":"LOW"}}}"""),
        new("genai:generateContentStream",
            """{"contents":[{"parts":[{"text":"Tell me a story"}],"role":"user"}],"systemInstruction":{"parts":[{"text":"be brief"}],"role":"user"},"generationConfig":{"maxOutputTokens":6}}"""),
        new("python:snake_case",
            """{"contents":[{"role":"user","parts":[{"text":"Once upon a time"}]}],"system_instruction":{"parts":[{"text":"Be brief."}]},"generation_config":{"max_output_tokens":5,"temperature":0.5,"top_p":0.9,"top_k":20,"stop_sequences":["END"],"candidate_count":1,"presence_penalty":0.0,"frequency_penalty":0.0,"thinking_config":{"thinking_budget":0,"include_thoughts":false}},"safety_settings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]}"""),
        new("curl:snake_case multi-turn",
            """{"contents":[{"role":"user","parts":[{"text":"hi"}]},{"role":"model","parts":[{"text":"hello"},{"text":"there"}]},{"role":"user","parts":[{"text":"and then?"}]}],"generation_config":{"max_output_tokens":4,"response_mime_type":"text/plain","response_modalities":["TEXT"]}}"""),
        new("genai:countTokens",
            """{"contents":[{"parts":[{"text":"How many tokens is this?"}],"role":"user"}]}""", CountTokens: true),
        new("countTokens:generateContentRequest",
            """{"generateContentRequest":{"model":"models/gemini-2.5-flash","contents":[{"parts":[{"text":"Count me"}],"role":"user"}],"systemInstruction":{"parts":[{"text":"be brief"}]},"generationConfig":{"maxOutputTokens":4}}}""", CountTokens: true),
        new("countTokens:generate_content_request",
            """{"generate_content_request":{"model":"models/gemini-2.5-flash","contents":[{"parts":[{"text":"Count me"}],"role":"user"}],"system_instruction":{"parts":[{"text":"be brief"}]}}}""", CountTokens: true),
    ];

    public static Sample Plain => All[0];

    /// <summary>
    /// OpenAI-compatible bodies as the openai SDKs send them (wire-contract.md §4), each capped so it stays cheap;
    /// <see cref="Sample.Name"/> starts with the route they go to.
    /// </summary>
    public static readonly IReadOnlyList<Sample> OpenAI =
    [
        new("chat/completions:plain",
            """{"model":"gemini-2.5-flash","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello"}],"temperature":0.2,"max_tokens":4,"n":1,"stop":["END"]}"""),
        new("chat/completions:stream+include_usage",
            """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Tell a story"}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":5}"""),
        new("chat/completions:parts+seed",
            """{"model":"gemini-2.5-flash","messages":[{"role":"developer","content":[{"type":"text","text":"Be brief."}]},{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_completion_tokens":4,"seed":3,"top_p":0.9,"presence_penalty":0.1,"frequency_penalty":0.1}"""),
        new("chat/completions:tool-result-roundtrip",
            """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"{\"tempC\":21}"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"tool_choice":"none","max_tokens":4}"""),
        new("chat/completions:reasoning+extra_body",
            """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"extra_body":{"google":{"thinking_config":{"thinking_budget":800,"include_thoughts":true}}}}"""),
        new("chat/completions:reasoning_effort",
            """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Think hard"}],"reasoning_effort":"low","max_tokens":3}"""),
        new("embeddings:single",
            """{"model":"gemini-embedding-001","input":"hello world","encoding_format":"base64"}"""),
        new("embeddings:many+dimensions+float",
            """{"model":"gemini-embedding-001","input":["a","b"],"dimensions":4,"encoding_format":"float"}"""),
    ];
}
