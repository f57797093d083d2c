using System.Net.WebSockets;
using System.Text;
using Castor.Api.Gemini.Live;
using Castor.Application.Errors;

namespace Castor.UnitTests.Live;

public sealed class LiveCloseTests
{
    [Fact]
    public void A_long_reason_is_cut_to_the_123_bytes_a_close_frame_holds_at_a_character_boundary()
    {
        var reason = new LiveCloseException(WebSocketCloseStatus.InvalidPayloadData, "Invalid value at 'setup.model': " + new string('é', 200)).Reason;
        Assert.True(Encoding.UTF8.GetByteCount(reason) <= 123);
        Assert.EndsWith("...", reason);
        Assert.DoesNotContain('\uFFFD', reason);
    }

    [Fact]
    public void A_short_reason_is_kept_whole() =>
        Assert.Equal("setup.model is required.", new LiveCloseException(WebSocketCloseStatus.InvalidPayloadData, "setup.model is required.").Reason);

    [Theory]
    [InlineData(ErrorStatus.InvalidArgument, WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData(ErrorStatus.NotFound, WebSocketCloseStatus.PolicyViolation)]
    [InlineData(ErrorStatus.PermissionDenied, WebSocketCloseStatus.PolicyViolation)]
    [InlineData(ErrorStatus.Unavailable, (WebSocketCloseStatus)1013)]
    [InlineData(ErrorStatus.Internal, WebSocketCloseStatus.InternalServerError)]
    public void API_errors_map_to_close_codes(ErrorStatus status, WebSocketCloseStatus code) =>
        Assert.Equal(code, LiveCloseException.From(new CastorException(status, "m")).Code);

    [Fact]
    public void A_rate_limit_closes_with_1011_and_the_quota_message_as_the_Live_API_does_while_overload_stays_1013()
    {
        var quota = new CastorException(ErrorStatus.ResourceExhausted, "You exceeded your current quota, please check your plan and billing details.",
            new QuotaViolation("generativelanguage.googleapis.com/generate_content_free_tier_input_token_count", "q", "d"));
        var close = LiveCloseException.From(quota);
        Assert.Equal(WebSocketCloseStatus.InternalServerError, close.Code);
        Assert.StartsWith("You exceeded your current quota", close.Reason);
        Assert.Equal((WebSocketCloseStatus)1013, LiveCloseException.From(new CastorException(ErrorStatus.ResourceExhausted, "queue full")).Code);
    }

    [Fact]
    public void Malformed_JSON_is_a_1007_naming_the_problem()
    {
        var close = Assert.Throws<LiveCloseException>(() => LiveSession.Parse("{\"setup\":{\"model\":}"u8));
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, close.Code);
        Assert.StartsWith("Invalid JSON payload received at $.setup.model", close.Reason);
    }
}
