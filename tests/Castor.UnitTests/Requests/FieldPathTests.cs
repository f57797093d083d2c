using Castor.Application.Errors;

namespace Castor.UnitTests.Requests;

public sealed class FieldPathTests
{
    [Theory]
    [InlineData("generationConfig.temperature")]
    [InlineData("contents[2].parts[0].text")]
    [InlineData("tools[0].functionDeclarations[12].parameters")]
    [InlineData("tools.functionDeclarations.0.properties.a.pattern")]
    [InlineData("a[0][1]")]
    [InlineData("[3].x")]
    [InlineData("a..b")]
    [InlineData("a.")]
    [InlineData(".a")]
    [InlineData("a[01]")]
    [InlineData("a[0]b")]
    [InlineData("a[x].b")]
    [InlineData("a.[0]")]
    [InlineData("")]
    public void A_written_path_reads_back_to_the_very_same_text(string text)
    {
        Assert.Equal(text, FieldPath.Parse(text).ToString());
    }

    [Fact]
    public void Segments_are_names_and_indexes()
    {
        var path = FieldPath.Of("tools").Element(0).Field("functionDeclarations").Element(2).Field("parameters");
        Assert.Equal("tools[0].functionDeclarations[2].parameters", path.ToString());
        Assert.Equal(path, FieldPath.Parse("tools[0].functionDeclarations[2].parameters"));
        Assert.True(path.Segments[1].IsIndex);
        Assert.Equal(2, path.Segments[3].Index);
        Assert.Equal("functionDeclarations[2].parameters", path.From(2).ToString());
        Assert.Equal("stop[1]", FieldPath.Root.Element(1).ToStringAfter("stop"));
    }

    [Fact]
    public void Renaming_the_field_keeps_the_rest_of_the_message_and_the_other_details()
    {
        var error = CastorException.Unsupported(FieldPath.Of("cachedContent"), "Context caching");
        Assert.Equal("Context caching is not supported by this Castor server yet (field 'cachedContent').", error.Message);
        var renamed = error.WithFieldNames(_ => "extra_body.google.cached_content");
        Assert.Equal("Context caching is not supported by this Castor server yet (field 'extra_body.google.cached_content').", renamed.Message);
        Assert.Equal(error.Status, renamed.Status);
        var violation = Assert.IsType<FieldViolation>(renamed.Details.Single());
        Assert.Equal(("extra_body.google.cached_content", "Context caching is not supported yet."), (violation.Field, violation.Description));
        Assert.Same(error, error.WithFieldNames(p => p.ToString()));
    }
}
