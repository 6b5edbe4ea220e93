using System.Globalization;
using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Errors;

namespace Agora.Temporal;

/// The temporal query (clause 4.11): which instances, by which time property, between which instants,
/// and how many of the latest (lastN). Bounds are epoch milliseconds; From is inclusive, To exclusive.
internal sealed record TimeQuery(string? Rel, double? From, double? To, string Property, int? LastN)
{
    public static readonly TimeQuery All = new(null, null, null, "observedAt", null);

    /// The instant the aggregation periods start at, when the query gives one.
    public double? Start => Rel is "after" or "between" ? From : null;

    /// The stored column of the time property.
    public string Column => Property switch
    {
        "createdAt" => "created",
        "modifiedAt" => "modified",
        "deletedAt" => "deleted",
        _ => "observed",
    };

    public static TimeQuery Parse(Func<string, string?> get)
    {
        var rel = get("timerel");
        var at = get("timeAt") ?? get("time");
        var end = get("endTimeAt") ?? get("endTime");
        var property = get("timeproperty") ?? get("timeProperty") ?? "observedAt";
        if (property is not ("observedAt" or "createdAt" or "modifiedAt" or "deletedAt"))
        {
            throw NgsiLdException.BadRequest("Invalid timeproperty", $"timeproperty must be observedAt, createdAt, modifiedAt or deletedAt, not '{Names.Shorten(property)}'.");
        }
        int? lastN = null;
        if (get("lastN") is { } n)
        {
            lastN = int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : throw NgsiLdException.BadRequest("Invalid lastN", $"lastN must be a whole number greater than 0, not '{Names.Shorten(n)}'.");
        }
        if (rel is null)
        {
            if (at is not null || end is not null)
            {
                throw NgsiLdException.BadRequest("Missing timerel", "timeAt and endTimeAt need timerel (before, after or between).");
            }
            return All with { Property = property, LastN = lastN };
        }
        if (at is null)
        {
            throw NgsiLdException.BadRequest("Missing timeAt", $"timerel={Names.Shorten(rel)} needs timeAt.");
        }
        var from = Instant("timeAt", at);
        switch (rel)
        {
            case "before":
                return new TimeQuery(rel, null, from, property, lastN);
            case "after":
                return new TimeQuery(rel, from, null, property, lastN);
            case "between":
                if (end is null)
                {
                    throw NgsiLdException.BadRequest("Missing endTimeAt", "timerel=between needs endTimeAt.");
                }
                var to = Instant("endTimeAt", end);
                if (to <= from)
                {
                    throw NgsiLdException.BadRequest("Invalid endTimeAt", "endTimeAt must be later than timeAt.");
                }
                return new TimeQuery(rel, from, to, property, lastN);
            default:
                throw NgsiLdException.BadRequest("Invalid timerel", $"timerel must be before, after or between, not '{Names.Shorten(rel)}'.");
        }
    }

    /// The temporalQ member of a POST query body.
    public static TimeQuery Parse(JsonObject? temporalQ, Func<string, string?> parameters) =>
        temporalQ is null
            ? Parse(parameters)
            : Parse(name => temporalQ[name] switch
            {
                null => parameters(name),
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                var other => other.ToJsonString(),
            });

    private static double Instant(string name, string text) =>
        EntityInput.IsDateTime(text) && TemporalRows.Millis(text) is { } ms
            ? ms
            : throw NgsiLdException.BadRequest($"Invalid {name}", $"{name} must be a DateTime such as 2026-01-31T12:00:00Z, not '{Names.Shorten(text)}'.");
}

internal enum TemporalFormat { Normalized, TemporalValues, Aggregated }

/// How a temporal answer is shown: the format, the aggregation (methods and period) and sysAttrs.
internal sealed record TemporalView(TemporalFormat Format, IReadOnlyList<string> AggrMethods, IsoDuration? Period, bool SysAttrs)
{
    public static readonly string[] Methods = ["totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq"];

    public static TemporalView Parse(Func<string, string?> get)
    {
        var options = Split(get("options"));
        var format = get("format");
        var sysAttrs = false;
        TemporalFormat? fromOptions = null;
        foreach (var option in options)
        {
            switch (option)
            {
                case "temporalValues":
                    fromOptions ??= TemporalFormat.TemporalValues;
                    break;
                case "aggregatedValues":
                    fromOptions = TemporalFormat.Aggregated;
                    break;
                case "sysAttrs":
                    sysAttrs = true;
                    break;
                case "normalized" or "keyValues" or "concise" or "simplified":
                    break;
                default:
                    throw NgsiLdException.Invalid("Invalid options", $"'{Names.Shorten(option)}' is not an option of a temporal request (temporalValues, aggregatedValues, sysAttrs).");
            }
        }
        // format, when it names a temporal representation, wins over options (clause 6.3.7).
        TemporalFormat? fromFormat = format switch
        {
            null or "normalized" => null,
            "temporalValues" or "simplified" or "keyValues" => TemporalFormat.TemporalValues,
            "aggregatedValues" => TemporalFormat.Aggregated,
            _ => throw NgsiLdException.Invalid("Invalid format", $"'{Names.Shorten(format)}' is not a format of a temporal request (normalized, temporalValues, aggregatedValues)."),
        };
        var chosen = fromFormat ?? fromOptions ?? TemporalFormat.Normalized;
        if (chosen != TemporalFormat.Aggregated)
        {
            return new TemporalView(chosen, [], null, sysAttrs);
        }
        var methods = Split(get("aggrMethods"));
        if (methods.Count == 0)
        {
            throw NgsiLdException.BadRequest("Missing aggrMethods", "The aggregated temporal representation needs aggrMethods (totalCount, distinctCount, sum, avg, min, max, stddev, sumsq).");
        }
        foreach (var m in methods)
        {
            if (!Methods.Contains(m))
            {
                throw NgsiLdException.BadRequest("Invalid aggrMethods", $"'{Names.Shorten(m)}' is not an aggregation method (totalCount, distinctCount, sum, avg, min, max, stddev, sumsq).");
            }
        }
        IsoDuration? period = null;
        if (get("aggrPeriodDuration") is { } p)
        {
            period = IsoDuration.TryParse(p, out var d)
                ? d
                : throw NgsiLdException.BadRequest("Invalid aggrPeriodDuration", $"aggrPeriodDuration must be an ISO 8601 duration such as PT1H or P1D, not '{Names.Shorten(p)}'.");
        }
        return new TemporalView(TemporalFormat.Aggregated, methods.Distinct().ToList(), period is { IsZero: false } ? period : null, sysAttrs);
    }

    private static List<string> Split(string? text) =>
        text is null ? [] : [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
}
