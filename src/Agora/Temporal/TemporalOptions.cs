namespace Agora.Temporal;

/// Settings of the temporal history, section "Agora:Temporal". Per-tenant overrides live under
/// "Agora:Temporal:Tenants:{tenant}" (the default tenant's name is "default").
internal sealed class TemporalOptions
{
    public const string Section = "Agora:Temporal";

    /// Whether entity changes made through the NGSI-LD API are kept as history.
    public bool KeepHistory { get; set; } = true;

    /// How many days of history are kept (by observedAt, or by when an instance was recorded if it has no
    /// observedAt); 0 keeps everything.
    public int RetentionDays { get; set; }

    /// How often old instances are purged.
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// Most instances of one attribute returned by one temporal request before the answer is paged (206).
    public int MaxInstances { get; set; } = 1000;

    public Dictionary<string, TenantTemporalOptions> Tenants { get; set; } = new(StringComparer.Ordinal);

    public bool KeepsHistory(string tenant) => Of(tenant)?.KeepHistory ?? KeepHistory;

    public int RetentionDaysOf(string tenant) => Of(tenant)?.RetentionDays ?? RetentionDays;

    private TenantTemporalOptions? Of(string tenant) =>
        Tenants.TryGetValue(tenant.Length == 0 ? "default" : tenant, out var t) ? t : null;
}

internal sealed class TenantTemporalOptions
{
    public bool? KeepHistory { get; set; }

    public int? RetentionDays { get; set; }
}
