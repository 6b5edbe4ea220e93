using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace Agora.Tests.Durability;

/// A real Agora process, killed with SIGKILL in the middle of a write storm, loses no acknowledged write.
public sealed class KillTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "agora-kill-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task EveryAcknowledgedCreateSurvivesAKill()
    {
        var acknowledged = new ConcurrentBag<string>();
        using (var agora = AgoraProcess.Start(_data, output))
        {
            await agora.WaitUntilAnsweringAsync();
            using var client = new HttpClient { BaseAddress = agora.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            using var stop = new CancellationTokenSource();
            var workers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var id = $"urn:ngsi-ld:Building:{w}-{n}";
                    try
                    {
                        using var content = new StringContent($$"""{"id": "{{id}}", "type": "Building", "n": {{n}}}""", Encoding.UTF8, "application/json");
                        using var response = await client.PostAsync("/ngsi-ld/v1/entities", content);
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            acknowledged.Add(id);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return; // the server is gone
                    }
                    catch (TaskCanceledException)
                    {
                        return;
                    }
                }
            })).ToArray();

            // Killed once enough creates were acknowledged to prove something, however loaded the machine is
            // (a fixed two seconds gave 79 on a machine running two test suites), and at most 30 s in.
            var storm = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(1));
            while (acknowledged.Count < 300 && storm.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }
            agora.Kill();
            stop.Cancel();
            await Task.WhenAll(workers);
        }
        output.WriteLine($"{acknowledged.Count} creates were acknowledged before the kill.");
        Assert.True(acknowledged.Count >= 100, $"Only {acknowledged.Count} creates were acknowledged; the test proves little.");

        using var restarted = AgoraProcess.Start(_data, output);
        await restarted.WaitUntilAnsweringAsync();
        using var reader = new HttpClient { BaseAddress = restarted.BaseAddress };
        var lost = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(acknowledged, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, ct) =>
        {
            using var response = await reader.GetAsync($"/ngsi-ld/v1/entities/{Uri.EscapeDataString(id)}", ct);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                lost.Add($"{id}: {(int)response.StatusCode}");
            }
        });
        Assert.True(lost.IsEmpty, $"{lost.Count} acknowledged creates were lost, e.g. {string.Join(", ", lost.Take(5))}");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
