using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Agora.Temporal;

namespace Agora.Market;

/// What an agreement lets its key read: the frozen scope of the offering's data source.
internal sealed record Scope(
    IReadOnlySet<string> Types,
    Regex? IdPattern,
    string? IdPatternText,
    IReadOnlySet<string>? Attributes,
    JsonObject? Area,
    bool HistoryAllowed,
    IsoDuration? HistoryWindow)
{
    public static Scope Of(JsonObject source)
    {
        var pattern = (string?)source["idPattern"];
        var window = (string?)source["history"]?["window"];
        return new Scope(
            source["entityTypes"]!.AsArray().Select(t => (string)t!).ToHashSet(StringComparer.Ordinal),
            pattern is null ? null : new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)),
            pattern,
            source["attributes"] is JsonArray attributes ? attributes.Select(a => (string)a!).ToHashSet(StringComparer.Ordinal) : null,
            source["area"] as JsonObject,
            (bool?)source["history"]?["allowed"] == true,
            window is not null && IsoDuration.TryParse(window, out var d) ? d : null);
    }

    /// The earliest instant whose history this scope shows, or null when all of it is.
    public DateTimeOffset? HistoryStart(DateTimeOffset now) => HistoryWindow is { } w
        ? now.AddYears(-w.Years).AddMonths(-w.Months).AddDays(-w.Days).Subtract(w.Time)
        : null;
}

/// An agreement as the broker enforces it: its state at this instant, its scope and its quotas, all from the
/// snapshot of terms taken when it was made.
internal sealed record Agreement(string Id, string Tenant, string State, DateTimeOffset? EndAt, Scope Scope, long? CallsPerDay,
    long? NotificationsPerDay, long? BytesPerDay)
{
    public const string PendingApproval = "pendingApproval";
    public const string Active = "active";
    public const string Suspended = "suspended";
    public const string Expired = "expired";
    public const string Terminated = "terminated";
    public const string Rejected = "rejected";

    public static Agreement Of(JsonObject doc, DateTimeOffset now)
    {
        var terms = doc["terms"]!.AsObject();
        var quotas = terms["quotas"] as JsonObject;
        return new Agreement(
            (string)doc["id"]!,
            (string)doc["tenant"]!,
            StateOf(doc, now),
            EndOf(doc),
            Scope.Of(terms["dataSource"]!.AsObject()),
            (long?)quotas?["callsPerDay"],
            (long?)quotas?["notificationsPerDay"],
            (long?)quotas?["bytesPerDay"]);
    }

    /// The stored state, except that an active or suspended agreement whose end has passed is expired.
    public static string StateOf(JsonObject doc, DateTimeOffset now)
    {
        var state = (string)doc["state"]!;
        return state is Active or Suspended && EndOf(doc) is { } end && end <= now ? Expired : state;
    }

    private static DateTimeOffset? EndOf(JsonObject doc) =>
        doc["endAt"] is JsonValue v && v.TryGetValue<string>(out var s) ? DateTimeOffset.Parse(s, CultureInfo.InvariantCulture) : null;
}
