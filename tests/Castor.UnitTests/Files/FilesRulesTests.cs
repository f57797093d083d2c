using System.Collections;
using Castor.Application.Errors;
using Castor.Application.Files;
using Castor.Cli;
using Castor.Server;
using Castor.Storage.Files;
using Microsoft.Extensions.Configuration;

namespace Castor.UnitTests.Files;

public sealed class FilesRulesTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8787/v1beta/files/abc123", "abc123")]
    [InlineData("https://generativelanguage.googleapis.com/v1beta/files/abc-123", "abc-123")]
    [InlineData("http://localhost/v1/files/x", "x")]
    [InlineData("files/abc123", "abc123")]
    public void A_file_uri_names_the_file_in_every_form_the_sdks_send(string uri, string id) =>
        Assert.Equal(id, FilePartResolver.FileIdFromUri(uri, "fileUri"));

    [Theory]
    [InlineData("https://www.youtube.com/watch?v=abc")]
    [InlineData("http://host/v1beta/models/gemini")]
    [InlineData("http://host/other/files/abc")]
    [InlineData("abc123")]
    [InlineData("files/UPPER")]
    [InlineData("gs://bucket/file")]
    [InlineData("")]
    public void Other_uris_are_refused_naming_the_field(string uri)
    {
        var error = Assert.Throws<CastorException>(() => FilePartResolver.FileIdFromUri(uri, "contents[0].parts[0].fileData.fileUri"));
        Assert.Equal(ErrorStatus.InvalidArgument, error.Status);
        Assert.Equal("contents[0].parts[0].fileData.fileUri", Assert.IsType<FieldViolation>(Assert.Single(error.Details)).Field);
    }

    [Theory]
    [InlineData("files/a", "a")]
    [InlineData("a-b-c", "a-b-c")]
    [InlineData("files/0123456789012345678901234567890123456789", "0123456789012345678901234567890123456789")]
    public void File_names_follow_the_api_id_rules(string name, string id) => Assert.Equal(id, FileService.ParseName(name, "name"));

    [Theory]
    [InlineData("files/")]
    [InlineData("files/-a")]
    [InlineData("files/a-")]
    [InlineData("files/A")]
    [InlineData("files/a_b")]
    [InlineData("files/../etc")]
    [InlineData("files/01234567890123456789012345678901234567890")]
    public void Invalid_file_names_are_refused(string name) => Assert.Throws<CastorException>(() => FileService.ParseName(name, "name"));

    [Theory]
    [InlineData("text/plain", true)]
    [InlineData("text/markdown; charset=utf-8", true)]
    [InlineData("application/json", true)]
    [InlineData("application/vnd.api+json", true)]
    [InlineData("application/xml", true)]
    [InlineData("text/html", true)]
    [InlineData("text/csv", true)]
    [InlineData("application/x-python", true)]
    [InlineData("jsonl", true)]
    [InlineData("application/pdf", false)]
    [InlineData("image/png", false)]
    [InlineData("audio/mpeg", false)]
    [InlineData("video/mp4", false)]
    [InlineData("application/octet-stream", false)]
    public void Text_like_types_are_recognised(string mimeType, bool isText) => Assert.Equal(isText, MediaTypes.IsText(mimeType));

    [Fact]
    public void Page_tokens_round_trip_and_garbage_is_a_400_on_page_token()
    {
        var cursor = new FileCursor(new DateTimeOffset(2026, 11, 27, 1, 2, 3, 456, TimeSpan.Zero), "abc-1");
        Assert.Equal(cursor, FilePageToken.Decode(FilePageToken.Encode(cursor)));
        foreach (var bad in new[] { "x", "bW9kZWxzOjI", FilePageToken.Encode(cursor)[..^2] + "!!" })
        {
            var error = Assert.Throws<CastorException>(() => FilePageToken.Decode(bad));
            Assert.Equal("pageToken", Assert.IsType<FieldViolation>(Assert.Single(error.Details)).Field);
        }
    }

    [Fact]
    public void The_default_limits_are_the_documented_ones()
    {
        var limits = new FileLimits();
        var options = new CastorOptions().Files;
        Assert.Equal(2L * 1024 * 1024 * 1024, limits.MaxFileBytes);
        Assert.Equal(20L * 1024 * 1024 * 1024, limits.ProjectQuotaBytes);
        Assert.Equal(TimeSpan.FromHours(48), limits.FileLifetime);
        Assert.Equal((limits.MaxFileBytes, limits.ProjectQuotaBytes, limits.FileLifetime), (options.MaxFileBytes, options.ProjectQuotaBytes, options.FileLifetime));
        Assert.Equal((100, TimeSpan.FromHours(1), 1000, 128L * 1024 * 1024, 2), (limits.MaxOpenUploads, limits.UploadIdleTimeout, limits.MaxPdfPages, limits.MaxPdfDecodedBytes, limits.MaxConcurrentPdfParses));
        Assert.Equal((limits.MaxOpenUploads, limits.UploadIdleTimeout, limits.MaxPdfPages, limits.MaxPdfDecodedBytes, limits.MaxConcurrentPdfParses),
            (options.MaxOpenUploads, options.UploadIdleTimeout, options.MaxPdfPages, options.MaxPdfDecodedBytes, options.MaxConcurrentPdfParses));
    }

    [Fact]
    public void Storage_and_file_settings_come_from_castor_environment_variables()
    {
        var map = OptionsLoader.FromEnvironment(new Hashtable
        {
            ["CASTOR_STORAGE__POSTGRES"] = "Host=db;Database=castor",
            ["CASTOR_FILES__MAX_FILE_BYTES"] = "1000",
            ["CASTOR_FILES__SWEEP_INTERVAL"] = "00:01:00",
            ["CASTOR_FILES__MAX_OPEN_UPLOADS"] = "7",
            ["CASTOR_FILES__MAX_PDF_DECODED_BYTES"] = "4096",
            ["CASTOR_PUBLIC_URL"] = "https://castor.example.com",
            ["CASTOR_TEST_POSTGRES"] = "Host=ignored",
        });
        var options = new CastorOptions();
        new ConfigurationBuilder().AddInMemoryCollection(map).Build().GetSection(CastorOptions.Section).Bind(options);
        Assert.Equal("Host=db;Database=castor", options.Storage.Postgres);
        Assert.Equal(1000, options.Files.MaxFileBytes);
        Assert.Equal(TimeSpan.FromMinutes(1), options.Files.SweepInterval);
        Assert.Equal((7, 4096L), (options.Files.MaxOpenUploads, options.Files.MaxPdfDecodedBytes));
        Assert.Equal("https://castor.example.com", options.PublicUrl);
        Assert.Equal(6, map.Count);
    }
}
