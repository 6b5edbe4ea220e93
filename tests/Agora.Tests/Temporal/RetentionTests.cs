using Agora.Storage;
using Agora.Temporal;
using Microsoft.Extensions.DependencyInjection;
using static Agora.Tests.Temporal.TemporalClient;

namespace Agora.Tests.Temporal;

/// Agora:Temporal:RetentionDays: instances observed longer ago than the retention are purged, newer ones kept.
public sealed class RetentionTests
{
    private const string Id = "urn:ngsi-ld:Meter:1";

    private static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    // Readings 40, 31, 29 and 1 days old (values are their ages in days).
    private static string Readings()
    {
        var now = DateTimeOffset.UtcNow;
        return $$"""
            {
              "id": "{{Id}}", "type": "Meter",
              "reading": [{{P(40, Stamp(now.AddDays(-40)))}}, {{P(31, Stamp(now.AddDays(-31)))}}, {{P(29, Stamp(now.AddDays(-29)))}}, {{P(1, Stamp(now.AddDays(-1)))}}],
              "status": [{{P(45, Stamp(now.AddDays(-45)))}}]
            }
            """;
    }

    [Fact]
    public async Task PurgeRemovesInstancesObservedBeforeTheRetention()
    {
        await using var app = new AgoraApplication(("Agora:Temporal:RetentionDays", "30"), ("Agora:Temporal:RetentionInterval", "1.00:00:00"));
        await app.CreateHistoryAsync(Readings());
        var store = app.Services.GetRequiredService<TenantStores>().Existing(TenantStores.DefaultTenant);

        await HistoryRetention.PurgeAsync(store, 30, CancellationToken.None);

        var history = await app.HistoryAsync(Id);
        Assert.Equal([29, 1], ValuesOf(history, "reading").Select(v => (int)v!));
        Assert.Null(history["status"]);
    }

    [Fact]
    public async Task TheBackgroundPurgeRemovesOldInstances()
    {
        await using var app = new AgoraApplication(("Agora:Temporal:RetentionDays", "30"), ("Agora:Temporal:RetentionInterval", "00:00:00.100"));
        await app.CreateHistoryAsync(Readings());

        var deadline = DateTime.UtcNow.AddSeconds(10);
        int[] values;
        do
        {
            await Task.Delay(100);
            values = [.. ValuesOf(await app.HistoryAsync(Id), "reading").Select(v => (int)v!)];
        }
        while (values.Length > 2 && DateTime.UtcNow < deadline);

        Assert.Equal([29, 1], values);
    }
}
