using Castor.Application.Tools;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Castor.Application.Backends;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;

namespace Castor.UnitTests.Generation;

/// <summary>The generation rules (validation, defaults, prompt assembly, thinking plan, tool calls, finish reasons), run against a fake backend.</summary>
public sealed class GenerationRulesTests
{
    private static readonly Caller Caller = new("project-1", "default", "key-1");
    private const string HermesTemplate = "{% for m in messages %}<tool_call>{% endfor %}";

    private static (GenerationService Service, FakeModelBackend Backend) Create(FakeModelBackend? backend = null, GenerationOptions? options = null)
    {
        backend ??= new FakeModelBackend();
        return (new GenerationService(new ModelCatalogue([backend]), options: options), backend);
    }

    private static GenerationRequest Request(string text = "Hi", GenerationConfig? config = null) => new()
    {
        Model = "models/fake",
        Contents = [new Content("user", [new TextPart(text)])],
        Config = config ?? new GenerationConfig(),
    };

    private static void AssertField(CastorException error, string field) =>
        Assert.Contains(error.Details.OfType<FieldViolation>(), v => v.Field == field);

    [Fact]
    public async Task More_candidates_than_parallel_sequences_is_refused_before_the_backend_runs()
    {
        var (service, backend) = Create(new FakeModelBackend(parallel: 2));
        var error = await Assert.ThrowsAsync<CastorException>(() =>
            service.GenerateAsync(Caller, Request(config: new GenerationConfig { CandidateCount = 3 }), default));
        AssertField(error, "generationConfig.candidateCount");
        Assert.Contains("--parallel 3", error.Message);
        Assert.Empty(backend.Requests);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(2.5)]
    [InlineData(double.NaN)]
    public async Task A_temperature_outside_0_to_2_is_refused(double temperature)
    {
        var (service, backend) = Create();
        var error = await Assert.ThrowsAsync<CastorException>(() =>
            service.GenerateAsync(Caller, Request(config: new GenerationConfig { Temperature = temperature }), default));
        Assert.Equal(ErrorStatus.InvalidArgument, error.Status);
        AssertField(error, "generationConfig.temperature");
        Assert.Empty(backend.Requests);
    }

    [Fact]
    public async Task Unset_settings_take_the_models_generation_defaults()
    {
        var (service, backend) = Create(new FakeModelBackend(contextSize: 512));
        await service.GenerateAsync(Caller, Request(), default);
        var sent = backend.LastRequest;
        Assert.Equal((float)GenerationDefaults.Temperature, sent.Sampling.Temperature);
        Assert.Equal((float)GenerationDefaults.TopP, sent.Sampling.TopP);
        Assert.Equal(GenerationDefaults.TopK, sent.Sampling.TopK);
        Assert.Equal(511, sent.MaxOutputTokens);
        Assert.Equal(1, sent.Candidates);
        Assert.Empty(sent.StopSequences);
        Assert.Null(sent.TopLogprobs);
        Assert.Null(sent.Grammar);
    }

    [Fact]
    public async Task Set_values_reach_the_backend_as_sent()
    {
        var (service, backend) = Create();
        var config = new GenerationConfig
        {
            Temperature = 0.2, TopP = 0.5, TopK = 7, Seed = 42, MaxOutputTokens = 30, CandidateCount = 2,
            StopSequences = ["END", "\n\n"], PresencePenalty = 0.5, ResponseLogprobs = true, Logprobs = 3,
        };
        await service.GenerateAsync(Caller, Request(config: config), default);
        var sent = backend.LastRequest;
        Assert.Equal(0.2f, sent.Sampling.Temperature);
        Assert.Equal(0.5f, sent.Sampling.TopP);
        Assert.Equal(7, sent.Sampling.TopK);
        Assert.Equal(42u, sent.Sampling.Seed);
        Assert.Equal(0.5f, sent.Sampling.PresencePenalty);
        Assert.Equal(30, sent.MaxOutputTokens);
        Assert.Equal(2, sent.Candidates);
        Assert.Equal(["END", "\n\n"], sent.StopSequences);
        Assert.Equal(3, sent.TopLogprobs);
    }

    [Fact]
    public async Task Stop_sequences_are_limited_to_five_non_empty_ones()
    {
        var (service, _) = Create();
        var tooMany = await Assert.ThrowsAsync<CastorException>(() => service.GenerateAsync(Caller,
            Request(config: new GenerationConfig { StopSequences = ["a", "b", "c", "d", "e", "f"] }), default));
        AssertField(tooMany, "generationConfig.stopSequences");
        var empty = await Assert.ThrowsAsync<CastorException>(() => service.GenerateAsync(Caller,
            Request(config: new GenerationConfig { StopSequences = ["ok", ""] }), default));
        AssertField(empty, "generationConfig.stopSequences[1]");
    }

    [Fact]
    public async Task The_prompt_is_the_system_instruction_then_the_turns_in_template_roles_without_earlier_thoughts()
    {
        var (service, backend) = Create();
        var request = new GenerationRequest
        {
            Model = "gemini-2.5-flash",
            SystemInstruction = new Content("", [new TextPart("Be brief.")]),
            Contents =
            [
                new Content("user", [new TextPart("Hello"), new TextPart("there")]),
                new Content("model", [new TextPart("pondering") { Thought = true }, new TextPart("Hi!")]),
                new Content("", [new TextPart("Bye")]),
            ],
        };
        var result = await service.GenerateAsync(Caller, request, default);

        Assert.Equal(
            [new PromptMessage("system", "Be brief."), new PromptMessage("user", "Hello\nthere"), new PromptMessage("assistant", "Hi!"), new PromptMessage("user", "Bye")],
            backend.LastMessages!);
        var rendered = FakeModelBackend.Render(backend.LastMessages!);
        Assert.Equal(rendered.Length, backend.LastRequest.PromptTokens.Count);
        Assert.Equal(rendered.Length, result.Usage.PromptTokenCount);
        Assert.Equal("fake", result.ModelVersion);
    }

    [Fact]
    public async Task An_unknown_role_names_the_content_it_is_in()
    {
        var (service, _) = Create();
        var request = Request() with { Contents = [new Content("user", [new TextPart("a")]), new Content("assistant", [new TextPart("b")])] };
        var error = await Assert.ThrowsAsync<CastorException>(() => service.GenerateAsync(Caller, request, default));
        AssertField(error, "contents[1].role");
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_refused_with_both_counts()
    {
        var (service, backend) = Create(new FakeModelBackend(contextSize: 64));
        var error = await Assert.ThrowsAsync<CastorException>(() => service.GenerateAsync(Caller, Request(new string('x', 100)), default));
        Assert.Equal(ErrorStatus.InvalidArgument, error.Status);
        Assert.Contains("(63)", error.Message);
        Assert.Empty(backend.Requests);
    }

    [Theory]
    [InlineData(10, null, 10)]
    [InlineData(null, "LOW", 1024)]
    [InlineData(null, "HIGH", 24576)]
    [InlineData(null, null, -1)]
    public async Task A_thinking_model_is_asked_for_the_budget_the_request_sets(int? budget, string? level, int expected)
    {
        var markers = new ThoughtMarkers("<think>", "</think>");
        var (service, backend) = Create(new FakeModelBackend(thinking: markers));
        await service.GenerateAsync(Caller, Request(config: new GenerationConfig { ThinkingConfig = new ThinkingConfig(budget, true, ThinkingLevelNames.Parse(level, FieldPath.Of("thinkingLevel"))) }), default);
        var plan = backend.LastRequest.Thinking!;
        Assert.Equal(expected, plan.Budget);
        Assert.Equal("<think>".Select(c => (int)c), plan.StartTokens);
        Assert.Equal("</think>".Select(c => (int)c), plan.EndTokens);
    }

    [Fact]
    public async Task A_zero_budget_on_a_template_that_opens_a_thought_closes_it_in_the_prompt()
    {
        var markers = new ThoughtMarkers("<think>", "</think>", StartsInThought: true);
        var (service, backend) = Create(new FakeModelBackend(thinking: markers));
        var result = await service.GenerateAsync(Caller, Request(config: new GenerationConfig { ThinkingConfig = new ThinkingConfig(0, true, null) }), default);
        Assert.Null(backend.LastRequest.Thinking);
        var prompt = new string(backend.LastRequest.PromptTokens.Select(t => (char)t).ToArray());
        Assert.EndsWith("</think>", prompt);
        Assert.Equal(prompt.Length, result.Usage.PromptTokenCount);
    }

    [Fact]
    public async Task A_model_that_cannot_think_ignores_the_thinking_config()
    {
        var (service, backend) = Create();
        await service.GenerateAsync(Caller, Request(config: new GenerationConfig { ThinkingConfig = new ThinkingConfig(100, true, null) }), default);
        Assert.Null(backend.LastRequest.Thinking);
    }

    [Fact]
    public async Task Thoughts_are_split_from_the_answer_and_counted_apart()
    {
        var markers = new ThoughtMarkers("<think>", "</think>");
        var backend = new FakeModelBackend(thinking: markers) { Outputs = ["<think>plan</think>Answer"] };
        var (service, _) = Create(backend);
        var result = await service.GenerateAsync(Caller, Request(config: new GenerationConfig { ThinkingConfig = new ThinkingConfig(-1, true, null) }), default);
        Assert.Equal("plan", result.Candidates[0].Thought);
        Assert.Equal("Answer", result.Candidates[0].Text);
        Assert.Equal("<think>plan</think>".Length, result.Usage.ThoughtsTokenCount);
        Assert.Equal("Answer".Length, result.Usage.CandidatesTokenCount);
    }

    private static IReadOnlyList<FunctionDeclaration> WeatherTool() =>
        [new FunctionDeclaration("get_weather", "Weather now",
            JsonNode.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""))];

    [Fact]
    public async Task A_function_call_in_the_models_output_becomes_a_function_call_part()
    {
        var backend = new FakeModelBackend(chatTemplate: HermesTemplate)
        {
            Outputs = ["Let me check.<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"],
        };
        var (service, _) = Create(backend);
        var result = await service.GenerateAsync(Caller, Request("Weather in Paris?") with { Tools = WeatherTool() }, default);

        var candidate = result.Candidates[0];
        Assert.Equal(FinishReason.Stop, candidate.FinishReason);
        Assert.Equal("Let me check.", candidate.Text);
        var call = Assert.Single(candidate.FunctionCalls);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("Paris", call.Args!.Value.GetProperty("city").GetString());
        // The declarations are part of the prompt, and a lazy grammar holds the call to its schema.
        Assert.Contains("get_weather", backend.LastMessages![0].Text);
        Assert.Equal("system", backend.LastMessages![0].Role);
        Assert.True(backend.LastRequest.Grammar!.IsLazy);
    }

    [Fact]
    public async Task A_call_cut_off_by_the_token_limit_is_dropped_and_the_answer_says_max_tokens()
    {
        var backend = new FakeModelBackend(chatTemplate: HermesTemplate)
        {
            Outputs = ["<tool_call>\n{\"name\": \"get_weather\", \"argu"],
            Finish = FinishCause.MaxOutputTokens,
        };
        var (service, _) = Create(backend);
        var result = await service.GenerateAsync(Caller, Request("Weather?") with { Tools = WeatherTool() }, default);
        Assert.Empty(result.Candidates[0].FunctionCalls);
        Assert.Equal(FinishReason.MaxTokens, result.Candidates[0].FinishReason);
    }

    [Fact]
    public async Task A_call_that_does_not_parse_finishes_as_malformed()
    {
        var backend = new FakeModelBackend(chatTemplate: HermesTemplate) { Outputs = ["<tool_call>\nnot json\n</tool_call>"] };
        var (service, _) = Create(backend);
        var result = await service.GenerateAsync(Caller, Request("Weather?") with { Tools = WeatherTool() }, default);
        Assert.Equal(FinishReason.MalformedFunctionCall, result.Candidates[0].FinishReason);
    }

    [Theory]
    [InlineData(FinishCause.EndOfText, FinishReason.Stop)]
    [InlineData(FinishCause.StopSequence, FinishReason.Stop)]
    [InlineData(FinishCause.MaxOutputTokens, FinishReason.MaxTokens)]
    [InlineData(FinishCause.ContextFull, FinishReason.MaxTokens)]
    public async Task Backend_finish_causes_become_the_apis_finish_reasons(FinishCause cause, FinishReason expected)
    {
        var (service, _) = Create(new FakeModelBackend { Finish = cause });
        var result = await service.GenerateAsync(Caller, Request(), default);
        Assert.Equal(expected, result.Candidates[0].FinishReason);
    }

    [Fact]
    public async Task Usage_counts_the_prompt_each_candidates_output_and_the_reused_prefix()
    {
        var (service, _) = Create(new FakeModelBackend { Outputs = ["abc", "defgh"], ReusedTokens = 4 });
        var result = await service.GenerateAsync(Caller, Request(config: new GenerationConfig { CandidateCount = 2 }), default);
        Assert.Equal(["abc", "defgh"], result.Candidates.Select(c => c.Text));
        Assert.Equal(8, result.Usage.CandidatesTokenCount);
        Assert.Equal(4, result.Usage.CachedContentTokenCount);
    }

    [Fact]
    public async Task Resident_prefixes_are_shared_only_within_the_callers_project_unless_configured()
    {
        var (isolated, backend) = Create();
        await isolated.GenerateAsync(Caller, Request(), default);
        Assert.Equal("project:project-1", backend.LastRequest.PrefixPartition);

        var (shared, sharedBackend) = Create(options: new GenerationOptions { SharePrefixesAcrossProjects = true });
        await shared.GenerateAsync(Caller, Request(), default);
        Assert.Equal("", sharedBackend.LastRequest.PrefixPartition);
    }

    [Fact]
    public async Task A_failure_the_request_caused_is_invalid_argument_and_a_server_failure_internal()
    {
        foreach (var (byRequest, status) in new[] { (true, ErrorStatus.InvalidArgument), (false, ErrorStatus.Internal) })
        {
            var backend = new FakeModelBackend
            {
                Script = _ =>
                {
                    var channel = Channel.CreateUnbounded<BackendEvent>();
                    channel.Writer.TryWrite(new TextProduced(0, "partial"));
                    channel.Writer.TryWrite(new BackendFailed("grammar too costly", byRequest));
                    channel.Writer.Complete();
                    return channel.Reader;
                },
            };
            var (service, _) = Create(backend);
            var error = await Assert.ThrowsAsync<CastorException>(() => service.GenerateAsync(Caller, Request(), default));
            Assert.Equal(status, error.Status);
        }
    }

    [Fact]
    public async Task A_grammar_the_backend_rejects_names_the_field_it_came_from()
    {
        var (service, _) = Create(new FakeModelBackend { Refusal = new GrammarRejectedException("too deep") });
        var error = await Assert.ThrowsAsync<CastorException>(() =>
            service.GenerateAsync(Caller, Request(config: new GenerationConfig { ResponseFormat = ResponseFormat.AnyJson }), default));
        AssertField(error, "generationConfig.responseMimeType");
        Assert.Contains("too deep", error.Message);
    }

    [Fact]
    public async Task Count_tokens_counts_the_prompt_the_backend_would_receive()
    {
        var (service, backend) = Create();
        var request = Request("Count me") with { SystemInstruction = new Content("", [new TextPart("Sys")]) };
        var count = await service.CountTokensAsync(Caller, request, default);
        Assert.Equal(FakeModelBackend.Render([new PromptMessage("system", "Sys"), new PromptMessage("user", "Count me")]).Length, count);
        Assert.Empty(backend.Requests);
    }

    [Fact]
    public async Task A_delegating_service_sees_every_call_with_its_caller_and_passes_it_on()
    {
        var (inner, backend) = Create();
        var metering = new CountingGenerationService(inner);
        var result = await metering.GenerateAsync(Caller, Request(), default);
        await metering.CountTokensAsync(Caller, Request(), default);
        Assert.Equal(["generate:project-1", "count:project-1"], metering.Calls);
        Assert.Equal("Hello there.", result.Candidates[0].Text);
        Assert.Single(backend.Requests);
    }

    [Fact]
    public async Task A_metering_wrapper_sees_a_streams_final_usage_when_the_reader_reaches_the_end()
    {
        var (inner, _) = Create(new FakeModelBackend { Outputs = ["abc", "de"] });
        var metering = new MeteringGenerationService(inner);
        var stream = await metering.StartAsync(Caller, Request(config: new GenerationConfig { CandidateCount = 2 }), default);
        Assert.Empty(metering.Billed);

        var texts = new string[2];
        await foreach (var update in stream.ReadAllAsync())
            texts[update.CandidateIndex] += update.Text;

        Assert.Equal(["abc", "de"], texts);
        var (project, usage) = Assert.Single(metering.Billed);
        Assert.Equal("project-1", project);
        Assert.Equal(5, usage.CandidatesTokenCount);
        Assert.Equal(stream.PromptTokenCount, usage.PromptTokenCount);
    }

    private sealed class MeteringGenerationService(IGenerationService inner) : DelegatingGenerationService(inner)
    {
        public List<(string Project, Usage Usage)> Billed { get; } = [];

        public override async Task<GenerationStream> StartAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
            new MeteredStream(await base.StartAsync(caller, request, cancellationToken), usage => Billed.Add((caller.ProjectId, usage)));

        private sealed class MeteredStream(GenerationStream inner, Action<Usage> bill) : GenerationStream(inner)
        {
            public override async IAsyncEnumerable<GenerationUpdate> ReadAllAsync(
                [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
            {
                Usage? last = null;
                await foreach (var update in base.ReadAllAsync(cancellationToken))
                {
                    last = update.Usage;
                    yield return update;
                }
                if (last is not null) bill(last);
            }
        }
    }

    private sealed class CountingGenerationService(IGenerationService inner) : DelegatingGenerationService(inner)
    {
        public List<string> Calls { get; } = [];

        public override Task<GenerationResult> GenerateAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
        {
            Calls.Add("generate:" + caller.ProjectId);
            return base.GenerateAsync(caller, request, cancellationToken);
        }

        public override Task<int> CountTokensAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
        {
            Calls.Add("count:" + caller.ProjectId);
            return base.CountTokensAsync(caller, request, cancellationToken);
        }
    }
}
