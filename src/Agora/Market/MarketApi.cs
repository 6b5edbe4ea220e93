using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.NgsiLd;
using Agora.Security;

namespace Agora.Market;

/// The market's administration API (/market/v1): a city's data sources and offerings, the agreements consumers
/// make with it, and their usage. It exists in Secured mode only, as /admin/v1 does; who may call what is
/// AccessRules' (admins everything of their tenant; consumers browse offerings, request agreements and read
/// their own agreements and usage).
internal static class MarketApi
{
    public const string Base = "/market/v1";

    public static IEndpointRouteBuilder MapMarket(this IEndpointRouteBuilder app)
    {
        if (!app.IsSecured())
        {
            return app;
        }
        var market = app.MapGroup(Base);
        market.MapGet("/openapi.json", () => Results.Stream(OpenApiDocument(), "application/json"));

        market.MapPost("/datasources", CreateDataSource);
        market.MapGet("/datasources", (HttpContext http, MarketStore store) => Json(store.DataSources(TenantOf(http))));
        market.MapGet("/datasources/{id}", (HttpContext http, MarketStore store, string id) => Json(OwnDataSource(http, store, id)));
        market.MapPatch("/datasources/{id}", UpdateDataSource);
        market.MapDelete("/datasources/{id}", DeleteDataSource);

        market.MapPost("/offerings", CreateOffering);
        market.MapGet("/offerings", (HttpContext http, MarketStore store) =>
            Json(store.Offerings(TenantOf(http), IsAdmin(http) ? null : "published")));
        market.MapGet("/offerings/{id}", (HttpContext http, MarketStore store, string id) => Json(OwnOffering(http, store, id)));
        market.MapPatch("/offerings/{id}", UpdateOffering);
        market.MapPost("/offerings/{id}/publish", (HttpContext http, MarketStore store, TimeProvider time, string id) =>
            ChangeOffering(http, store, time, id, "published", ["draft"]));
        market.MapPost("/offerings/{id}/retire", (HttpContext http, MarketStore store, TimeProvider time, string id) =>
            ChangeOffering(http, store, time, id, "retired", ["draft", "published"]));

        market.MapPost("/agreements", (HttpContext http, Agreements agreements) => agreements.RequestAsync(http));
        market.MapGet("/agreements", (HttpContext http, Agreements agreements) => Json(agreements.Visible(http)));
        market.MapGet("/agreements/{id}", (HttpContext http, Agreements agreements, string id) => Json(agreements.Own(http, id)));
        foreach (var action in Agreements.Actions)
        {
            market.MapPost($"/agreements/{{id}}/{action}", (HttpContext http, Agreements agreements, string id) => agreements.ActAsync(http, id, action));
        }
        market.MapGet("/agreements/{id}/usage", Usage);
        market.MapAgreementKeys();
        market.MapConsumers();
        market.MapSignup();
        return app;
    }

    private static async Task<IResult> CreateDataSource(HttpContext http, MarketStore store, AuditLog audit, TimeProvider time)
    {
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var source = MarketInput.DataSource(body, context);
        source["id"] = NewId("ds");
        source["tenant"] = TenantOf(http);
        source["createdAt"] = MarketInput.Format(time.GetUtcNow());
        store.InsertDataSource(TenantOf(http), source);
        await AuditAsync(http, audit, $"created data source {source["id"]}");
        return Created(http, "datasources", source);
    }

    private static readonly string[] DataSourceMembers = ["name", "entityTypes", "idPattern", "attributes", "area", "history"];

    /// Changes a data source: the members given replace its own (null removes an optional one), and the result is
    /// checked as a new data source is. Agreements froze the scope they were made under, so none of them changes:
    /// agreements made later, under any offering of this data source, take the new scope.
    private static async Task<IResult> UpdateDataSource(HttpContext http, MarketStore store, AuditLog audit, TimeProvider time, string id)
    {
        var (changes, context) = await NgsiLdRequest.BodyAsync(http);
        var current = OwnDataSource(http, store, id);
        var merged = new JsonObject();
        foreach (var name in DataSourceMembers)
        {
            if (current[name] is { } value)
            {
                merged[name] = value.DeepClone();
            }
        }
        foreach (var (name, value) in changes)
        {
            if (!DataSourceMembers.Contains(name))
            {
                throw MarketInput.Invalid(name, $"is not a member of a data source ({string.Join(", ", DataSourceMembers)}).");
            }
            merged[name] = value?.DeepClone();
            if (value is null)
            {
                merged.Remove(name);
            }
        }
        var source = MarketInput.DataSource(merged, context);
        source["id"] = id;
        source["tenant"] = TenantOf(http);
        source["createdAt"] = current["createdAt"]?.DeepClone();
        source["modifiedAt"] = MarketInput.Format(time.GetUtcNow());
        store.UpdateDataSource(TenantOf(http), source);
        await AuditAsync(http, audit, $"changed data source {id} (agreements made before keep the scope they froze)");
        return Json(source);
    }

    private static async Task<IResult> DeleteDataSource(HttpContext http, MarketStore store, AuditLog audit, string id)
    {
        OwnDataSource(http, store, id);
        if (!store.DeleteDataSource(TenantOf(http), id))
        {
            throw Conflict($"Data source {id} is used by an offering; retire and keep the offering, or make a new data source.");
        }
        await AuditAsync(http, audit, $"deleted data source {id}");
        return Results.NoContent();
    }

    private static async Task<IResult> CreateOffering(HttpContext http, MarketStore store, AuditLog audit, TimeProvider time)
    {
        var offering = MarketInput.Offering(await BodyAsync(http), partial: false);
        OwnDataSource(http, store, (string)offering["dataSource"]!, "dataSource");
        var now = MarketInput.Format(time.GetUtcNow());
        offering["id"] = NewId("of");
        offering["tenant"] = TenantOf(http);
        offering["state"] = "draft";
        offering["createdAt"] = now;
        offering["modifiedAt"] = now;
        store.SaveOffering(TenantOf(http), offering, insert: true);
        await AuditAsync(http, audit, $"created offering {offering["id"]} (draft)");
        return Created(http, "offerings", offering);
    }

    /// Changes an offering's terms. Agreements keep the terms they were made under; only new ones see these.
    private static async Task<IResult> UpdateOffering(HttpContext http, MarketStore store, AuditLog audit, TimeProvider time, string id)
    {
        var changes = MarketInput.Offering(await BodyAsync(http), partial: true);
        var offering = OwnOffering(http, store, id);
        if ((string?)offering["state"] == "retired")
        {
            throw Conflict($"Offering {id} is retired; its terms no longer change.");
        }
        if (changes["dataSource"] is { } source)
        {
            OwnDataSource(http, store, (string)source!, "dataSource");
        }
        foreach (var (name, value) in changes.ToList())
        {
            changes.Remove(name);
            offering[name] = value;
        }
        offering["modifiedAt"] = MarketInput.Format(time.GetUtcNow());
        store.SaveOffering(TenantOf(http), offering, insert: false);
        await AuditAsync(http, audit, $"changed offering {id}");
        return Json(offering);
    }

    private static async Task<IResult> ChangeOffering(HttpContext http, MarketStore store, TimeProvider time, string id, string state, string[] from)
    {
        var offering = OwnOffering(http, store, id);
        if (!from.Contains((string?)offering["state"]))
        {
            throw Conflict($"Offering {id} is {offering["state"]}; it can become {state} from {string.Join(" or ", from)} only.");
        }
        offering["state"] = state;
        offering["modifiedAt"] = MarketInput.Format(time.GetUtcNow());
        store.SaveOffering(TenantOf(http), offering, insert: false);
        await AuditAsync(http, http.RequestServices.GetRequiredService<AuditLog>(), $"offering {id} is {state}");
        return Json(offering);
    }

    /// Per UTC day: what the agreement's calls and notifications used, how its counted calls were answered
    /// (response times, server errors, the share answered without one), and whether that day met the SLA terms
    /// the agreement recorded (availability against that share, responseTimeMs against the 95th percentile).
    private static IResult Usage(HttpContext http, Agreements agreements, MarketStore store, string id, string? format)
    {
        var agreement = agreements.Own(http, id);
        var sla = agreement["terms"]?["sla"] as JsonObject;
        var days = store.Usage((string)agreement["id"]!).Select(d => (Day: d, Measured: Measured(d, sla))).ToList();
        if (format is "csv")
        {
            var csv = new StringBuilder("agreement,day,calls,entities,bytes,notifications,notificationsDropped,timedCalls,meanMs,p95Ms,maxMs,serverErrors,availability,slaMet\n");
            foreach (var (d, m) in days)
            {
                csv.Append(CultureInfo.InvariantCulture,
                    $"{d.Agreement},{d.Day},{d.Calls},{d.Entities},{d.Bytes},{d.Notifications},{d.NotificationsDropped},{d.Timed},{m["meanMs"]},{d.P95Ms},{d.MaxMs},{d.ServerErrors},{m["availability"]},{m["slaMet"]?.ToJsonString()}\n");
            }
            return Results.Text(csv.ToString(), "text/csv", Encoding.UTF8);
        }
        if (format is not null and not "json")
        {
            throw MarketInput.Invalid("format", "must be json or csv.");
        }
        return Json(new JsonObject
        {
            ["agreement"] = id,
            ["sla"] = sla?.DeepClone(),
            ["days"] = new JsonArray([.. days.Select(p => (JsonNode?)new JsonObject
            {
                ["day"] = p.Day.Day,
                ["calls"] = p.Day.Calls,
                ["entities"] = p.Day.Entities,
                ["bytes"] = p.Day.Bytes,
                ["notifications"] = p.Day.Notifications,
                ["notificationsDropped"] = p.Day.NotificationsDropped,
                ["responseTime"] = new JsonObject
                {
                    ["calls"] = p.Day.Timed,
                    ["meanMs"] = p.Measured["meanMs"]?.DeepClone(),
                    ["p95Ms"] = p.Day.P95Ms,
                    ["maxMs"] = p.Day.MaxMs,
                },
                ["serverErrors"] = p.Day.ServerErrors,
                ["availability"] = p.Measured["availability"]?.DeepClone(),
                ["slaMet"] = p.Measured["slaMet"]?.DeepClone(),
                ["slaMisses"] = p.Measured["slaMisses"]!.DeepClone(),
            })]),
        });
    }

    // A day's mean time and availability (% of timed calls without a 5xx), and whether it met the SLA terms:
    // null when nothing was timed or the agreement has no SLA.
    internal static JsonObject Measured(UsageDay day, JsonObject? sla)
    {
        if (day.Timed == 0)
        {
            return new JsonObject { ["meanMs"] = null, ["availability"] = null, ["slaMet"] = null, ["slaMisses"] = new JsonArray() };
        }
        var availability = Math.Round(100.0 * (day.Timed - day.ServerErrors) / day.Timed, 3);
        var misses = new JsonArray();
        if ((double?)sla?["availability"] is { } promised && availability < promised)
        {
            misses.Add($"availability {availability.ToString(CultureInfo.InvariantCulture)}% is below {promised.ToString(CultureInfo.InvariantCulture)}%");
        }
        if ((double?)sla?["responseTimeMs"] is { } limit && day.P95Ms > limit)
        {
            misses.Add($"95th percentile {day.P95Ms} ms is above {limit.ToString(CultureInfo.InvariantCulture)} ms");
        }
        return new JsonObject
        {
            ["meanMs"] = Math.Round((double)day.TimeMs / day.Timed, 1),
            ["availability"] = availability,
            ["slaMet"] = sla is null ? null : misses.Count == 0,
            ["slaMisses"] = misses,
        };
    }

    public static string TenantOf(HttpContext http) => Caller.Of(http.User)!.Tenant;

    public static bool IsAdmin(HttpContext http) => Caller.Of(http.User)!.Role == Role.Admin;

    public static ValueTask AuditAsync(HttpContext http, AuditLog audit, string what) =>
        audit.WriteAsync(http, TenantOf(http), Caller.Of(http.User)!.CredentialId, AuditLog.Changed, what);

    // The same reading as every NGSI-LD body: size-limited, fully decoded, malformed JSON a client error.
    public static async Task<JsonObject> BodyAsync(HttpContext http) =>
        await NgsiLdRequest.ParseAsync(http) as JsonObject
            ?? throw NgsiLdException.BadRequest("Invalid payload", "The body must be a JSON object.");

    private static JsonObject OwnDataSource(HttpContext http, MarketStore store, string id, string? member = null) =>
        store.DataSource(TenantOf(http), id) ?? throw (member is null
            ? NotFound("Data source", id)
            : MarketInput.Invalid(member, $"names no data source of this tenant ('{Entities.Names.Shorten(id)}')."));

    public static JsonObject OwnOffering(HttpContext http, MarketStore store, string id)
    {
        var offering = store.Offering(TenantOf(http), id);
        // A consumer sees published offerings only: a draft is the city's own until it is published.
        return offering is not null && (IsAdmin(http) || (string?)offering["state"] == "published") ? offering : throw NotFound("Offering", id);
    }

    public static NgsiLdException NotFound(string what, string id) =>
        NgsiLdException.NotFound(what + " not found", $"This tenant has no {what.ToLowerInvariant()} '{Entities.Names.Shorten(id)}'.");

    public static NgsiLdException Conflict(string detail) => new(ErrorTypes.Conflict, "Conflict", detail);

    public static string NewId(string prefix) => prefix + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json", Encoding.UTF8);

    private static IResult Json(IEnumerable<JsonObject> docs) => Json(new JsonArray([.. docs]));

    public static IResult Created(HttpContext http, string collection, JsonObject doc)
    {
        http.Response.Headers.Location = $"{Base}/{collection}/{doc["id"]}";
        return Results.Text(doc.ToJsonString(), "application/json", Encoding.UTF8, 201);
    }

    public static Stream OpenApiDocument() =>
        typeof(MarketApi).Assembly.GetManifestResourceStream("Agora.Market.openapi.json")!;
}
