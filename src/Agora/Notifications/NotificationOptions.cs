namespace Agora.Notifications;

/// How notifications are delivered, bound from "Agora:Notifications". Defaults live here.
internal sealed class NotificationOptions
{
    public const string Section = "Agora:Notifications";

    /// How long one delivery attempt (an HTTP POST, an MQTT connect and publish) may take before it counts as failed.
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// Most deliveries in flight at once, across all subscriptions and tenants.
    public int MaxConcurrency { get; set; } = 64;

    /// Wait before the first retry of a failed notification; each further failure doubles it.
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// Longest wait between two attempts of a failing notification.
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(60);

    /// With several nodes on one PostgreSQL database: how long a node's claim on delivering a subscription's
    /// notifications lasts unless renewed. A node that dies holding it is replaced by another after this long.
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);
}
