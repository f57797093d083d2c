using Castor.Api.Gemini.Wire;
using App = Castor.Application.Generation;

namespace Castor.Api.Gemini.Live;

/// <summary>The model's text (and thought text, when asked for) as modelTurn text parts, as they are generated.</summary>
internal sealed class TextOutputStage : ILiveOutputStage
{
    public static readonly TextOutputStage Instance = new();

    public Content? Render(App.GenerationUpdate update)
    {
        var parts = new List<Part>(2);
        if (update.Thought.Length > 0) parts.Add(new Part { Text = update.Thought, Thought = true });
        var text = update.Text;
        if (text.Length > 0) parts.Add(new Part { Text = text });
        return parts.Count == 0 ? null : new Content { Role = App.Content.ModelRole, Parts = parts };
    }
}
