using System.Globalization;
using Agora.Entities;
using Agora.Errors;

namespace Agora.NgsiLd;

/// The pagination parameters every NGSI-LD list shares (clause 5.5.9): limit (default 20, at most 1,000),
/// offset, and count, whose total goes back in NGSILD-Results-Count.
internal readonly record struct Paging(int Offset, int Limit, bool Count)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 1000;
    public const string CountHeader = "NGSILD-Results-Count";

    public static Paging Parse(IQueryCollection query)
    {
        var limit = Number(query, "limit", DefaultLimit);
        var offset = Number(query, "offset", 0);
        var count = query["count"].ToString() switch
        {
            "" or "false" => false,
            "true" => true,
            var other => throw NgsiLdException.BadRequest("Invalid count", $"count must be true or false, not '{Names.Shorten(other)}'."),
        };
        if (limit > MaxLimit)
        {
            throw new NgsiLdException(ErrorTypes.TooManyResults, "Page too large", $"limit may be at most {MaxLimit}; page through larger results with offset.");
        }
        if (limit == 0 && !count)
        {
            throw NgsiLdException.BadRequest("Invalid limit", "limit=0 asks for nothing; it is only meaningful with count=true.");
        }
        return new Paging(offset, limit, count);
    }

    /// Sets NGSILD-Results-Count when the client asked for the total.
    public void WriteCount(HttpResponse response, long? total)
    {
        if (Count && total is { } t)
        {
            response.Headers[CountHeader] = t.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static int Number(IQueryCollection query, string name, int fallback)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return fallback;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw NgsiLdException.BadRequest($"Invalid {name}", $"{name} must be a whole number of at least 0, not '{Names.Shorten(text)}'.");
    }
}
