using System.Text;
using Castor.Engine.Text;
using Castor.IntegrationTests.StructuredOutput;
using LLama;
using LLama.Native;

namespace Castor.IntegrationTests.Text;

/// <summary>
/// The scheduler's detokenizer against LLamaSharp's own streaming decoder, on the test model's whole vocabulary: byte
/// tokens (<c>&lt;0xE2&gt;</c>) that split a character across tokens must come out the same whether or not the token
/// around them is served from the model's shared strings.
/// </summary>
public sealed class TokenTextDecoderTests(TestModelWeights model) : IClassFixture<TestModelWeights>
{
    private SafeLlamaModelHandle Handle => model.Weights.NativeHandle;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_tokens_decode_exactly_as_llamasharp_decodes_them(int seed)
    {
        var vocabulary = model.Weights.Vocab.Count;
        var random = new Random(seed);
        var pieces = new TokenPieces(Handle, vocabulary);
        var ours = new TokenTextDecoder(Handle, pieces);
        var theirs = new StreamingTokenDecoder(Encoding.UTF8, model.Weights);
        var text = new StringBuilder();
        var byteTokens = ByteTokens();
        Assert.NotEmpty(byteTokens);
        for (var i = 0; i < 3_000; i++)
        {
            // A third of the draws are byte tokens, so split and invalid characters happen often.
            var token = (LLamaToken)(random.Next(3) == 0 ? byteTokens[random.Next(byteTokens.Count)] : random.Next(vocabulary));
            if (token.IsControl(model.Weights.Vocab)) continue;
            text.Append(ours.Add(token));
            theirs.Add(token);
        }
        Assert.Equal(theirs.Read(), text.ToString());
    }

    [Fact]
    public void A_whole_token_streams_the_shared_string_and_a_split_character_does_not_leak_between_sequences()
    {
        var pieces = new TokenPieces(Handle, model.Weights.Vocab.Count);
        var first = new TokenTextDecoder(Handle, pieces);
        var second = new TokenTextDecoder(Handle, pieces);
        // Any word-piece token: several ASCII letters.
        var once = (LLamaToken)Enumerable.Range(0, model.Weights.Vocab.Count)
            .First(t => Bytes((LLamaToken)t) is { Length: >= 3 } b && b.All(x => char.IsAsciiLetter((char)x)));

        var a = first.Add(once);
        Assert.True(first.LastWasShared);
        Assert.Same(a, second.Add(once));

        // "é" is C3 A9: the first byte leaves the first decoder holding half a character...
        var (c3, a9) = (ByteToken(0xC3), ByteToken(0xA9));
        Assert.Equal("", first.Add(c3));
        Assert.False(first.LastWasShared);
        // ...which the other decoder does not see,
        Assert.Same(a, second.Add(once));
        // and which the first completes before it serves shared strings again.
        Assert.Equal("é", first.Add(a9));
        Assert.Same(a, first.Add(once));
        Assert.True(first.LastWasShared);

        // A half character followed by a whole token: the held byte becomes U+FFFD, as LLamaSharp renders it.
        Assert.Equal("", first.Add(c3));
        Assert.Equal("\uFFFD" + a, first.Add(once));
        Assert.False(first.LastWasShared);
    }

    /// <summary>Tokens that render as one byte outside ASCII: the vocabulary's byte tokens, halves of characters.</summary>
    private List<int> ByteTokens() =>
        Enumerable.Range(0, model.Weights.Vocab.Count).Where(t => Bytes((LLamaToken)t) is [>= 0x80]).ToList();

    private LLamaToken ByteToken(int value) =>
        (LLamaToken)Enumerable.Range(0, model.Weights.Vocab.Count).First(t => Bytes((LLamaToken)t) is [var b] && b == value);

    private byte[] Bytes(LLamaToken token)
    {
        var buffer = new byte[64];
        var length = (int)Handle.TokenToSpan(token, buffer, 0, false);
        return buffer[..Math.Max(0, length)];
    }
}
