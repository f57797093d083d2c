using Castor.Api.Gemini.Wire;
using App = Castor.Application.Generation;

namespace Castor.Api.Gemini.Live;

/// <summary>
/// The last stage of a Live turn: the model's streamed answer becomes what the client receives in
/// <c>serverContent.modelTurn</c>. Text passes through; a speech stage will synthesize audio parts (and transcriptions).
/// Function calls do not pass through here: the session sends them as <c>toolCall</c>.
/// </summary>
internal interface ILiveOutputStage
{
    /// <summary>The model turn carrying this update to the client, or null when there is nothing to send for it.</summary>
    Content? Render(App.GenerationUpdate update);
}
