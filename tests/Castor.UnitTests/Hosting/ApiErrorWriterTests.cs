using System.Text.Json.Nodes;
using Castor.Api.Gemini.Infrastructure;
using Castor.Api.Hosting;
using Castor.Api.OpenAI.Infrastructure;
using Castor.Application.Errors;
using Castor.Application.Keys;

namespace Castor.UnitTests.Hosting;

public sealed class ApiErrorWriterTests
{
    [Fact]
    public void An_unmatched_path_belongs_to_the_longest_group_prefix_it_lies_under_whatever_its_case()
    {
        var surface = new ApiSurface();
        surface.Add("/v1beta", GeminiErrors.Instance);
        surface.Add("/v1beta/openai", OpenAIErrors.Instance);

        Assert.Same(OpenAIErrors.Instance, surface.OwnerOf("/v1beta/openai/nothing"));
        Assert.Same(OpenAIErrors.Instance, surface.OwnerOf("/V1BETA/OpenAI/nothing"));
        Assert.Same(GeminiErrors.Instance, surface.OwnerOf("/v1beta/nothing"));
        // Segments, not characters: /v1betax is no one's.
        Assert.Null(surface.OwnerOf("/v1betax/models"));
        Assert.Null(surface.OwnerOf("/ws/live"));
    }

    [Fact]
    public void A_key_failure_is_recognised_by_its_detail_not_its_message()
    {
        IApiErrorWriter openAI = OpenAIErrors.Instance;
        var keyFailure = new CastorException(ErrorStatus.InvalidArgument, "any wording at all", new ApiKeyRejected(ApiKeyProblem.Invalid));
        var sameWordsNoDetail = new CastorException(ErrorStatus.InvalidArgument, "API key not valid. Please pass a valid API key.");

        Assert.Equal(401, openAI.HttpStatus(keyFailure));
        Assert.Equal("invalid_api_key", JsonNode.Parse(openAI.ToJson(keyFailure))!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(400, openAI.HttpStatus(sameWordsNoDetail));
    }

    [Fact]
    public void The_key_failure_marker_is_not_written_into_Googles_error_body()
    {
        var body = JsonNode.Parse(GeminiErrors.ToJson(ApiKeyRejected.Missing()))!["error"]!;
        Assert.Equal(403, body["code"]!.GetValue<int>());
        Assert.Equal("PERMISSION_DENIED", body["status"]!.GetValue<string>());
        Assert.Null(body["details"]);
    }
}
