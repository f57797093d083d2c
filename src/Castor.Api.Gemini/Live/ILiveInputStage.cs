using Castor.Api.Gemini.Wire;
using App = Castor.Application.Generation;

namespace Castor.Api.Gemini.Live;

/// <summary>
/// The first stage of a Live turn: what the client streams in (<c>realtimeInput</c>) becomes user turns for the model.
/// Text becomes a turn at once; a speech stage will buffer audio until the end of the user's activity and transcribe it.
/// </summary>
internal interface ILiveInputStage
{
    /// <summary>The user turn this input completes, or null when it completes none (yet).</summary>
    App.Content? Accept(LiveRealtimeInput input);
}
