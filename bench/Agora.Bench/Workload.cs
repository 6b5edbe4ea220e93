namespace Agora.Bench;

/// One measured path: requests cycle through Paths; with a BodyTemplate each request carries a body in which
/// "{n}" becomes a number unique to the run (BodyRepeat > 1 sends a JSON array of that many bodies). An ApiKey
/// goes in every request's X-Api-Key header.
internal sealed record Workload(string Name, string Method, IReadOnlyList<string> Paths, string? BodyTemplate = null, int BodyRepeat = 1, int? Connections = null, string? ApiKey = null)
{
    /// How many entities one request carries, for the entities/s of batch paths.
    public int EntitiesPerRequest => BodyTemplate is null ? 0 : BodyRepeat;
}

/// What a generator measured for one workload.
internal sealed record Measurement(string Name, string Generator, int Connections, double RequestsPerSecond, double P50Ms, double P99Ms, long Requests, long Errors);
