using Castor.Application.Backends;

namespace Castor.Application.Models;

/// <summary>
/// A request's hold on the generative model it resolved: while any lease is open, unloading the model waits, so a
/// stream that has started always finishes on the model it began with. Disposing more than once releases once.
/// </summary>
public sealed class ModelLease : IDisposable
{
    private readonly ModelCatalogue _catalogue;
    private readonly ModelCatalogue.LoadedModel _model;
    private int _released;

    internal ModelLease(ModelCatalogue catalogue, ModelCatalogue.LoadedModel model)
    {
        _catalogue = catalogue;
        _model = model;
    }

    public IModelBackend Backend => _model.Backend;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) _catalogue.Release(_model);
    }
}
