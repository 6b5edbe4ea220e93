using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Agora.Bench;

/// The temporal target: an hourly average over 30 days of one attribute that holds N instances (1,000,000 by
/// default), spread evenly over those 30 days. Loaded through the temporal API; the query runs one at a time,
/// so its median is the time one client waits.
internal static class TemporalAggregation
{
    private const string Id = "urn:ngsi-ld:AirQualityObserved:bench-history";
    private const int Batch = 5000;
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public const string Query = "/ngsi-ld/v1/temporal/entities/" + Id + "?attrs=NO2&options=aggregatedValues&aggrMethods=avg&aggrPeriodDuration=PT1H"
        + "&timerel=between&timeAt=2026-01-01T00:00:00Z&endTimeAt=2026-01-31T00:00:00Z";

    /// Loads the instances; returns how many were stored per second.
    public static async Task<double> LoadAsync(string agoraUrl, int instances)
    {
        using var http = new HttpClient { BaseAddress = new Uri(agoraUrl), Timeout = TimeSpan.FromMinutes(5) };
        var step = TimeSpan.FromDays(30).Ticks / Math.Max(1, instances);
        var clock = Stopwatch.StartNew();
        for (var from = 0; from < instances; from += Batch)
        {
            var to = Math.Min(instances, from + Batch);
            var body = new StringBuilder(from == 0 ? $"{{\"id\":\"{Id}\",\"type\":\"AirQualityObserved\",\"NO2\":[" : "{\"NO2\":[");
            for (var i = from; i < to; i++)
            {
                var at = Start.AddTicks(step * i).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
                body.Append(i == from ? "" : ",").Append(CultureInfo.InvariantCulture, $"{{\"type\":\"Property\",\"value\":{20 + i % 50},\"observedAt\":\"{at}\"}}");
            }
            body.Append("]}");
            var path = from == 0 ? "/ngsi-ld/v1/temporal/entities" : $"/ngsi-ld/v1/temporal/entities/{Id}/attrs";
            using var response = await http.PostAsync(path, new StringContent(body.ToString(), Encoding.UTF8, "application/json"));
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Loading the history failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
        return instances / clock.Elapsed.TotalSeconds;
    }

    public static async Task<Measurement> RunAsync(string agoraUrl, int repetitions)
    {
        using var http = new HttpClient { BaseAddress = new Uri(agoraUrl), Timeout = TimeSpan.FromMinutes(1) };
        long errors = 0;
        var times = new List<double>();
        for (var i = -3; i < repetitions; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await http.GetAsync(Query);
            var body = await response.Content.ReadAsStringAsync();
            var elapsed = clock.Elapsed.TotalMilliseconds;
            // An answer without its periods is an error, however fast.
            if (!response.IsSuccessStatusCode || JsonNode.Parse(body)?["NO2"]?["avg"] is not JsonArray { Count: > 0 })
            {
                errors++;
            }
            if (i >= 0)
            {
                times.Add(elapsed);
            }
        }
        times.Sort();
        var median = times[times.Count / 2];
        return new Measurement("temporal hourly avg, 30 days", "http", 1, 1000 / median, median, times[(int)Math.Ceiling(times.Count * 0.99) - 1], times.Count, errors);
    }
}
