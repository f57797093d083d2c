using Castor.Application.Live;
using Castor.Application.Models;
using Castor.Application.Quotas;
using Microsoft.Extensions.Logging;
using App = Castor.Application.Generation;

namespace Castor.Api.Gemini.Live;

/// <summary>
/// What every Live session of this server shares: the generation pipeline, resumption storage, the model catalogue
/// (for context windows), the settings, <see cref="DrainTime"/>, how long the host waits for sessions when it stops, and
/// the rate limits' sessions quota (null when no tier is configured).
/// </summary>
internal sealed record LiveSessionServices(
    App.IGenerationService Generation,
    LiveResumptionService Resumptions,
    ModelCatalogue Catalogue,
    LiveOptions Options,
    TimeSpan DrainTime,
    ILogger Logger,
    LiveSessionQuota? Quota = null);
