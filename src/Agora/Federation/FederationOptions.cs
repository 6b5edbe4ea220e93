namespace Agora.Federation;

/// Settings of distributed operations (section "Agora:Federation").
internal sealed class FederationOptions
{
    public const string Section = "Agora:Federation";

    /// How this broker names itself in the Via header of the requests it forwards (clause 6.3.18), so that a
    /// request that comes back to it is recognised as a loop. Default: agora@{machine}:{port}.
    public string? Alias { get; set; }

    /// How long a context source may take to answer when its registration sets no management.timeout.
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// Most entities asked of one context source for one query.
    public int MaxRemoteEntities { get; set; } = 1000;
}
