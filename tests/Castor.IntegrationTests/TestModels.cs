namespace Castor.IntegrationTests;

/// <summary>Finds the small real models tests run on: CASTOR_TEST_MODELS, else ../shared/models beside the repository.</summary>
public static class TestModels
{
    public static string Folder
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("CASTOR_TEST_MODELS");
            if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(configured);
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Castor.slnx"))) dir = dir.Parent;
            if (dir is null) throw new InvalidOperationException("Cannot find the repository root (Castor.slnx) to locate ../shared/models; set CASTOR_TEST_MODELS.");
            return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "models"));
        }
    }

    public static string Stories260K
    {
        get
        {
            var path = Path.Combine(Folder, "stories260K.gguf");
            if (!File.Exists(path)) throw new FileNotFoundException($"The test model is missing: {path}. Set CASTOR_TEST_MODELS to the folder that holds stories260K.gguf.");
            return path;
        }
    }
}
