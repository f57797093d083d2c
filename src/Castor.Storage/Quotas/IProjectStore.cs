namespace Castor.Storage.Quotas;

/// <summary>Projects as rate limits see them: each has a usage tier (null: the configured default tier).</summary>
public interface IProjectStore
{
    /// <summary>Creates a project with a tier (null: the default tier). Returns false when a project has that name already.</summary>
    Task<bool> CreateProjectAsync(string name, string? tier, DateTimeOffset createdAt, CancellationToken cancellationToken = default);

    /// <summary>Every project, by name, with its tier and how many active keys it has.</summary>
    Task<IReadOnlyList<ProjectListing>> ListProjectsAsync(CancellationToken cancellationToken = default);

    /// <summary>Sets a project's tier (null: back to the default tier). Returns false when no project has that name.</summary>
    Task<bool> SetTierAsync(string name, string? tier, CancellationToken cancellationToken = default);

    /// <summary>The tier of the project with this id (null: the default tier, or no such project).</summary>
    Task<string?> GetTierAsync(string projectId, CancellationToken cancellationToken = default);
}
