using System.CommandLine;
using System.Globalization;
using Castor.Server;
using Castor.Storage.Batches;
using Castor.Storage.Relational;

namespace Castor.Cli;

/// <summary>
/// <c>castor batches list|get|cancel</c>: the operator's view of batch jobs in the data folder (or PostgreSQL), across
/// projects, read straight from the database, so it works whether or not a server is running.
/// </summary>
internal static class BatchesCommand
{
    public static Command Create(Option<string?> dataOption, Option<string?> configOption)
    {
        var limit = new Option<int>("--limit", "-n") { Description = "How many jobs, newest first.", DefaultValueFactory = _ => 20 };
        var list = new Command("list", "List batch jobs (id, project, state, progress).") { limit, dataOption, configOption };
        list.SetAction(async (parse, ct) => await WithStore(parse, dataOption, configOption, async store =>
        {
            var jobs = await store.ListAllAsync(Math.Max(1, parse.GetValue(limit)), ct);
            if (jobs.Count == 0)
            {
                Console.Error.WriteLine("No batch jobs yet.");
                return 0;
            }
            Console.WriteLine($"{"NAME",-22} {"PROJECT",-20} {"STATE",-10} {"PROGRESS",-28} {"CREATED",-20} DISPLAY NAME");
            foreach (var job in jobs)
            {
                var counts = await store.CountAsync(job.Id, ct);
                Console.WriteLine($"{"batches/" + job.Id,-22} {job.ProjectId,-20} {job.State.ToString().ToUpperInvariant(),-10} {Progress(job, counts),-28} " +
                                  $"{job.CreateTime.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {job.DisplayName}");
            }
            return 0;
        }));

        var id = new Argument<string>("name") { Description = "The job's name (batches/ID) or id, as `castor batches list` shows it." };
        var watch = new Option<bool>("--watch", "-w") { Description = "Print the progress every second until the job ends." };
        var get = new Command("get", "Show a batch job and its progress.") { id, watch, dataOption, configOption };
        get.SetAction(async (parse, ct) => await WithStore(parse, dataOption, configOption, async store =>
        {
            var batchId = Id(parse.GetValue(id)!);
            while (true)
            {
                var job = await store.FindAsync(batchId, ct);
                if (job is null) return NotFound(batchId);
                var counts = await store.CountAsync(job.Id, ct);
                if (!parse.GetValue(watch) || job.Finalized)
                {
                    Print(job, counts);
                    return 0;
                }
                Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {job.State.ToString().ToUpperInvariant(),-10} {Progress(job, counts)}");
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }));

        var cancelId = new Argument<string>("name") { Description = "The job's name (batches/ID) or id." };
        var cancel = new Command("cancel", "Cancel a batch job: requests not started are not run; finished results are kept.") { cancelId, dataOption, configOption };
        cancel.SetAction(async (parse, ct) => await WithStore(parse, dataOption, configOption, async store =>
        {
            var batchId = Id(parse.GetValue(cancelId)!);
            if (await store.FindAsync(batchId, ct) is not { } job) return NotFound(batchId);
            var cancelled = await store.CancelAsync(job.ProjectId, job.Id, DateTimeOffset.UtcNow, ct);
            Console.Error.WriteLine(cancelled?.State == BatchState.Cancelled
                ? $"Cancelled batches/{job.Id}; a running server finalizes it within its poll interval."
                : $"batches/{job.Id} already ended ({cancelled?.State.ToString().ToUpperInvariant()}).");
            return 0;
        }));

        return new Command("batches", "Batch API jobs: list them, follow one's progress, cancel one.") { list, get, cancel };
    }

    private static void Print(StoredBatch job, BatchCounts counts)
    {
        Console.WriteLine($"Name          batches/{job.Id}");
        if (job.DisplayName is not null) Console.WriteLine($"Display name  {job.DisplayName}");
        Console.WriteLine($"Project       {job.ProjectId}");
        Console.WriteLine($"Model         {job.Model}  ({job.Kind})");
        Console.WriteLine($"State         {job.State.ToString().ToUpperInvariant()}");
        Console.WriteLine($"Progress      {Progress(job, counts)}");
        Console.WriteLine($"Requests      {job.RequestCount}: {counts.Succeeded} succeeded, {counts.Failed} failed, {counts.Pending} pending");
        Console.WriteLine($"Tokens        {counts.PromptTokens} prompt, {counts.OutputTokens} output");
        Console.WriteLine($"Input         {job.InputFile ?? "inline"}");
        if (job.OutputFile is not null) Console.WriteLine($"Output        {job.OutputFile}");
        Console.WriteLine($"Created       {job.CreateTime.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        if (job.EndTime is { } end) Console.WriteLine($"Ended         {end.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        else Console.WriteLine($"Expires       {job.ExpireTime.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
    }

    /// <summary>A bar and the finished share: <c>[#####.....] 57/200 (28%)</c>.</summary>
    internal static string Progress(StoredBatch job, BatchCounts counts)
    {
        var finished = counts.Succeeded + counts.Failed;
        var total = Math.Max(1, job.RequestCount);
        const int width = 10;
        var filled = (int)(width * finished / total);
        return $"[{new string('#', filled)}{new string('.', width - filled)}] {finished}/{job.RequestCount} ({(100 * finished / total).ToString(CultureInfo.InvariantCulture)}%)";
    }

    private static string Id(string name) => name.StartsWith("batches/", StringComparison.Ordinal) ? name["batches/".Length..] : name;

    private static int NotFound(string id)
    {
        Console.Error.WriteLine($"castor: no batch job has the id '{id}' (see castor batches list).");
        return 1;
    }

    private static async Task<int> WithStore(ParseResult parse, Option<string?> dataOption, Option<string?> configOption, Func<IBatchStore, Task<int>> action)
    {
        try
        {
            var options = OptionsLoader.Load(parse.GetValue(configOption));
            var data = parse.GetValue(dataOption) ?? options.Data;
            var database = await CastorStorage.OpenAsync(options, data);
            return await action(new SqlBatchStore(database));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or InvalidDataException)
        {
            Console.Error.WriteLine($"castor: {ex.Message}");
            return 1;
        }
    }
}
