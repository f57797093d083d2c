using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Castor.Server;

/// <summary>
/// Serves a settings object that was bound before the container existed (the CLI binds <see cref="CastorOptions"/> from
/// appsettings.json, castor.json, CASTOR_* and flags; tests build one) as <c>IOptions&lt;T&gt;</c>: the very object, not a
/// copy, with every validation a layer registered for its type run on it when it is first asked for.
/// </summary>
public static class BoundOptions
{
    public static OptionsBuilder<T> AddBoundOptions<T>(this IServiceCollection services, T bound) where T : class
    {
        services.AddSingleton<IOptionsFactory<T>>(sp => new Factory<T>(bound, sp.GetServices<IValidateOptions<T>>()));
        return services.AddOptions<T>();
    }

    private sealed class Factory<T>(T bound, IEnumerable<IValidateOptions<T>> validations) : IOptionsFactory<T> where T : class
    {
        public T Create(string name)
        {
            var failures = new List<string>();
            foreach (var validation in validations)
            {
                var result = validation.Validate(name, bound);
                if (result.Failed) failures.AddRange(result.Failures);
            }
            if (failures.Count > 0) throw new OptionsValidationException(name, typeof(T), failures);
            return bound;
        }
    }
}
