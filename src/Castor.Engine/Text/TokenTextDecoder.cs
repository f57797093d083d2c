using System.Text;
using LLama.Native;

namespace Castor.Engine.Text;

/// <summary>
/// Turns one sequence's tokens into text as they are generated, holding back the bytes of a UTF-8 character split
/// across tokens until it is complete. It does what LLamaSharp's <c>StreamingTokenDecoder</c> does (control tokens
/// render as nothing, invalid bytes as U+FFFD) without its per-token garbage: that one joins a <c>List&lt;char&gt;</c>
/// through <c>string.Join&lt;char&gt;</c>, one string per character. Here the buffers are the decoder's own, and a
/// token that is whole characters by itself, arriving when no partial character is held, returns the model's shared
/// string for it (<see cref="TokenPieces"/>): the common token costs no allocation at all.
/// </summary>
internal sealed class TokenTextDecoder(SafeLlamaModelHandle model, TokenPieces pieces)
{
    private readonly Decoder _utf8 = Encoding.UTF8.GetDecoder();
    private byte[] _bytes = new byte[64];
    private char[] _chars = new char[64];
    private bool _holding;

    /// <summary>True when the last <see cref="Add"/> returned the model's shared string for that token.</summary>
    public bool LastWasShared { get; private set; }

    /// <summary>Adds one token and returns the characters it completed ("" when none).</summary>
    public string Add(LLamaToken token)
    {
        if (!_holding && pieces.Whole(token) is { } whole)
        {
            LastWasShared = true;
            return whole;
        }
        LastWasShared = false;
        var length = (int)model.TokenToSpan(token, _bytes, 0, false);
        if (length > _bytes.Length)
        {
            _bytes = new byte[length * 2];
            length = (int)model.TokenToSpan(token, _bytes, 0, false);
        }
        if (length <= 0) return "";
        // Bytes held from the previous token can add characters beyond this token's own, so ask the decoder.
        var needed = _utf8.GetCharCount(_bytes, 0, length, flush: false);
        if (_chars.Length < needed) _chars = new char[needed * 2];
        var count = _utf8.GetChars(_bytes, 0, length, _chars, 0, flush: false);
        // Whether bytes of an unfinished character remain inside the decoder (asking with flush does not change its state).
        _holding = _utf8.GetCharCount([], 0, 0, flush: true) > 0;
        return count == 0 ? "" : new string(_chars, 0, count);
    }
}
