using System.Net;
using Castor.Api.Hosting;
using Castor.Application.Errors;
using Castor.Application.Files;
using Castor.Application.Keys;
using Castor.Application.Tools;
using Microsoft.AspNetCore.Http;

namespace Castor.UnitTests.Files;

/// <summary>Issue 11's smaller findings on the Files API: anchors, media types, and the URLs handed out.</summary>
public sealed class HardeningRulesTests
{
    [Theory]
    [InlineData("abc\n")]
    [InlineData("files/abc\n")]
    [InlineData("abc\r\n")]
    public void A_file_id_with_a_trailing_newline_is_refused(string name)
    {
        var error = Assert.Throws<CastorException>(() => FileService.ParseName(name, "name"));
        Assert.Equal(ErrorStatus.InvalidArgument, error.Status);
    }

    [Fact]
    public void A_project_name_with_a_trailing_newline_is_refused()
    {
        ApiKeyService.ValidateProjectName("alpha");
        Assert.Throws<ArgumentException>(() => ApiKeyService.ValidateProjectName("alpha\n"));
    }

    [Fact]
    public void A_function_name_with_a_trailing_newline_is_refused()
    {
        FunctionDeclaration[] Tools(string name) => [new FunctionDeclaration(name, null, null)];
        Assert.NotNull(ToolSetParser.Parse(Tools("get_weather"), null));
        var error = Assert.Throws<CastorException>(() => ToolSetParser.Parse(Tools("get_weather\n"), null));
        Assert.Equal(ErrorStatus.InvalidArgument, error.Status);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("text/plain; charset=utf-8")]
    [InlineData("application/vnd.openxmlformats-officedocument.wordprocessingml.document")]
    [InlineData("text/html;charset=\"utf-8\"")]
    [InlineData("jsonl")]
    public void Well_formed_media_types_pass(string type) => Assert.True(MediaTypes.IsWellFormed(type));

    [Theory]
    [InlineData("text/plain; a=b\r\nX-Injected: 1")]
    [InlineData("text/plain; a=b\n")]
    [InlineData("text/plain\r\n")]
    [InlineData("text/plain; a=\u0000")]
    [InlineData("text/plain; a=\"unterminated")]
    [InlineData("text/plain; =b")]
    [InlineData("text/pläin")]
    [InlineData("text/plain; a=é")]
    [InlineData("text//plain")]
    [InlineData("jsonl; a=b")]
    public void Media_types_with_control_characters_or_broken_parameters_are_refused(string type) => Assert.False(MediaTypes.IsWellFormed(type));

    [Fact]
    public void A_media_type_is_bounded_in_length()
    {
        Assert.True(MediaTypes.IsWellFormed("text/plain; a=" + new string('x', MediaTypes.MaxLength - 14)));
        Assert.False(MediaTypes.IsWellFormed("text/plain; a=" + new string('x', MediaTypes.MaxLength - 13)));
    }

    [Fact]
    public void Upload_urls_come_from_the_bound_address_not_the_host_header()
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("attacker.example");
        context.Connection.LocalIpAddress = IPAddress.Loopback;
        context.Connection.LocalPort = 8787;
        Assert.Equal("http://127.0.0.1:8787", new PublicUrl(null).Base(context.Request));

        context.Connection.LocalIpAddress = IPAddress.IPv6Loopback;
        Assert.Equal("http://[::1]:8787", new PublicUrl(null).Base(context.Request));
    }

    [Theory]
    [InlineData("https://castor.example.com", "https://castor.example.com")]
    [InlineData("https://castor.example.com/", "https://castor.example.com")]
    [InlineData("http://10.0.0.5:9000/gemini/", "http://10.0.0.5:9000/gemini")]
    public void A_configured_public_url_is_used_as_given(string configured, string expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString("attacker.example");
        Assert.Equal(expected, new PublicUrl(configured).Base(context.Request));
    }

    [Theory]
    [InlineData("castor.example.com")]
    [InlineData("ftp://castor.example.com")]
    [InlineData("https://castor.example.com/?x=1")]
    [InlineData("https://user:pw@castor.example.com")]
    public void A_malformed_public_url_stops_the_start(string configured) => Assert.Throws<ArgumentException>(() => new PublicUrl(configured));
}
