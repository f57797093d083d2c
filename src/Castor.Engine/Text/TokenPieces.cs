using System.Text;
using System.Text.Unicode;
using LLama.Native;

namespace Castor.Engine.Text;

/// <summary>
/// Each token's text, made once per model, for tokens whose bytes are whole UTF-8 characters on their own (nearly all
/// of them; byte tokens and pieces of a split character are not). A sequence whose decoder holds no partial character
/// streams these shared strings instead of making one per token, so the decode loop allocates nothing for its text.
/// Used by the scheduler thread only.
/// </summary>
internal sealed class TokenPieces(SafeLlamaModelHandle model, int vocabulary)
{
    /// <summary>Marks a token whose bytes are not whole characters (compared by reference).</summary>
    private static readonly string NotWhole = new('\uFFFF', 1);

    private readonly string?[] _texts = new string?[Math.Max(0, vocabulary)];
    private byte[] _bytes = new byte[64];

    /// <summary>The token's text when its bytes are whole UTF-8 characters by themselves ("" for control tokens); else null.</summary>
    public string? Whole(LLamaToken token)
    {
        var id = (int)token;
        if ((uint)id >= (uint)_texts.Length) return null;
        var text = _texts[id] ??= Render(token);
        return ReferenceEquals(text, NotWhole) ? null : text;
    }

    private string Render(LLamaToken token)
    {
        var length = (int)model.TokenToSpan(token, _bytes, 0, false);
        if (length > _bytes.Length)
        {
            _bytes = new byte[length * 2];
            length = (int)model.TokenToSpan(token, _bytes, 0, false);
        }
        if (length <= 0) return "";
        var bytes = _bytes.AsSpan(0, length);
        return Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : NotWhole;
    }
}
