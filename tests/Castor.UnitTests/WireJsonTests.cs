using System.Text.Json;
using Castor.Api.Gemini.Infrastructure;
using Castor.Api.Gemini.Wire;
using Castor.Application.Errors;

namespace Castor.UnitTests;

public sealed class WireJsonTests
{
    [Fact]
    public void Snake_case_and_camel_case_fields_both_bind()
    {
        var snake = JsonSerializer.Deserialize("""{"generation_config":{"max_output_tokens":7,"stop_sequences":["x"]},"system_instruction":{"parts":[{"text":"s"}]}}""",
            GeminiJson.TypeInfo<GenerateContentRequest>())!;
        var camel = JsonSerializer.Deserialize("""{"generationConfig":{"maxOutputTokens":7,"stopSequences":["x"]},"systemInstruction":{"parts":[{"text":"s"}]}}""",
            GeminiJson.TypeInfo<GenerateContentRequest>())!;
        Assert.Equal(7, snake.GenerationConfig!.MaxOutputTokens);
        Assert.Equal(camel.GenerationConfig!.StopSequences, snake.GenerationConfig.StopSequences);
        Assert.Equal("s", snake.SystemInstruction!.Parts![0].Text);
    }

    [Fact]
    public void Keys_inside_free_form_json_are_not_renamed()
    {
        var request = JsonSerializer.Deserialize("""{"generationConfig":{"responseJsonSchema":{"properties":{"first_name":{"type":"string"}}}}}""",
            GeminiJson.TypeInfo<GenerateContentRequest>())!;
        Assert.True(request.GenerationConfig!.ResponseJsonSchema!.Value.GetProperty("properties").TryGetProperty("first_name", out _));
    }

    [Fact]
    public void Responses_are_written_in_camel_case_without_nulls_or_snake_twins()
    {
        var json = JsonSerializer.Serialize(new GenerateContentResponse
        {
            Candidates = [new Candidate { Index = 0, Content = new Content { Role = "model", Parts = [new Part { Text = "it's" }] } }],
            UsageMetadata = new UsageMetadata { PromptTokenCount = 1, TotalTokenCount = 1 },
        }, GeminiJson.TypeInfo<GenerateContentResponse>());
        Assert.Equal("""{"candidates":[{"content":{"role":"model","parts":[{"text":"it's"}]},"index":0}],"usageMetadata":{"promptTokenCount":1,"totalTokenCount":1}}""", json);
    }

    [Fact]
    public void Errors_have_the_google_rpc_shape_with_typed_details()
    {
        var error = CastorException.InvalidField("generationConfig.topP", "too big");
        using var doc = JsonDocument.Parse(GeminiErrors.ToJson(error));
        var e = doc.RootElement.GetProperty("error");
        Assert.Equal(400, e.GetProperty("code").GetInt32());
        Assert.Equal("INVALID_ARGUMENT", e.GetProperty("status").GetString());
        Assert.Contains("generationConfig.topP", e.GetProperty("message").GetString());
        var detail = e.GetProperty("details")[0];
        Assert.Equal("type.googleapis.com/google.rpc.BadRequest", detail.GetProperty("@type").GetString());
        Assert.Equal("generationConfig.topP", detail.GetProperty("fieldViolations")[0].GetProperty("field").GetString());
    }

    [Theory]
    [InlineData(ErrorStatus.InvalidArgument, 400, "INVALID_ARGUMENT")]
    [InlineData(ErrorStatus.FailedPrecondition, 400, "FAILED_PRECONDITION")]
    [InlineData(ErrorStatus.PermissionDenied, 403, "PERMISSION_DENIED")]
    [InlineData(ErrorStatus.NotFound, 404, "NOT_FOUND")]
    [InlineData(ErrorStatus.ResourceExhausted, 429, "RESOURCE_EXHAUSTED")]
    [InlineData(ErrorStatus.Internal, 500, "INTERNAL")]
    [InlineData(ErrorStatus.Unavailable, 503, "UNAVAILABLE")]
    [InlineData(ErrorStatus.DeadlineExceeded, 504, "DEADLINE_EXCEEDED")]
    public void Statuses_map_to_the_http_codes_google_uses(ErrorStatus status, int http, string name)
    {
        Assert.Equal(http, GeminiErrors.HttpStatus(status));
        Assert.Equal(name, GeminiErrors.StatusName(status));
    }
}
