using System.Text.Json.Nodes;
using Agora.Security;

namespace Agora.Market;

/// Consumer organisations of a tenant (/market/v1/consumers), the market's consumer accounts: the city registers
/// one by the name its agreements give, or the organisation signs up itself (SignupApi), and it gets a key (and,
/// when Agora's issuer runs, an OAuth2 client) of role consumer that carries that name. Such a credential reads through the union of the consumer's active agreements (MarketGate), requests
/// agreements for that consumer only and sees that consumer's agreements and usage.
internal static class ConsumersApi
{
    public static void MapConsumers(this RouteGroupBuilder market)
    {
        market.MapPost("/consumers", RegisterAsync);
        market.MapGet("/consumers", (HttpContext http, MarketStore store) =>
            MarketApi.Json(new JsonArray([.. store.Consumers(MarketApi.TenantOf(http), OwnName(http)).Select(c => (JsonNode?)c)])));
        market.MapGet("/consumers/{id}", (HttpContext http, MarketStore store, string id) => MarketApi.Json(Own(http, store, id)));
        market.MapDelete("/consumers/{id}", DeleteAsync);
    }

    // An admin sees the tenant's consumers; a consumer organisation's credential sees itself; any other consumer
    // credential sees none (a name no consumer has).
    private static string? OwnName(HttpContext http) =>
        MarketApi.IsAdmin(http) ? null : Caller.Of(http.User)!.Consumer ?? "\0";

    private static JsonObject Own(HttpContext http, MarketStore store, string id) =>
        store.Consumer(MarketApi.TenantOf(http), id) is { } found && (OwnName(http) is not { } name || (string?)found["name"] == name)
            ? found
            : throw MarketApi.NotFound("Consumer", id);

    private static async Task<IResult> RegisterAsync(HttpContext http, MarketStore store, Agreements agreements, AuditLog audit, TimeProvider time)
    {
        var name = NameOf(await MarketApi.BodyAsync(http));
        var tenant = MarketApi.TenantOf(http);
        if (store.Consumers(tenant, name).Count > 0)
        {
            throw Taken(name);
        }
        var (consumer, answer) = Register(store, agreements, time, tenant, MarketApi.NewId("co"), name);
        await MarketApi.AuditAsync(http, audit, $"registered consumer {consumer["id"]} '{name}', " + Issued(consumer));
        return MarketApi.Created(http, "consumers", answer);
    }

    /// The name of a consumer registration or sign-up, its one member.
    public static string NameOf(JsonObject body)
    {
        foreach (var (member, _) in body)
        {
            if (member is not "name")
            {
                throw MarketInput.Invalid(member, "is not a member of a consumer (name).");
            }
        }
        return ConsumerNames.OfAccount(MarketInput.Text(body, "name", required: true, max: 200)!);
    }

    public static Errors.NgsiLdException Taken(string name) =>
        MarketApi.Conflict($"This tenant has a consumer named '{Entities.Names.Shorten(name)}' already.");

    public static string Issued(JsonObject consumer) =>
        $"key {consumer["credential"]} issued" + (consumer["clientId"] is { } client ? $" and OAuth2 client {client}" : "");

    /// Registers the organisation and issues its account's key (and OAuth2 client): the record, and the answer
    /// that carries the secrets, which are in it and nowhere else, ever. 409 when the name is registered already.
    public static (JsonObject Consumer, JsonObject Answer) Register(MarketStore store, Agreements agreements, TimeProvider time, string tenant, string id, string name)
    {
        var (key, secret, client, clientSecret) = agreements.Issue(tenant, new CredentialRequest(Role.Consumer, null, $"consumer {id}", null, null, Consumer: name));
        var consumer = new JsonObject
        {
            ["id"] = id,
            ["tenant"] = tenant,
            ["name"] = name,
            ["credential"] = key.Id,
            ["clientId"] = client?.Id,
            ["createdAt"] = MarketInput.Format(time.GetUtcNow()),
        };
        if (!store.InsertConsumer(tenant, consumer))
        {
            // Another request registered the name first: these credentials are never shown, and revoked.
            agreements.Revoke(tenant, consumer);
            throw Taken(name);
        }
        var answer = consumer.DeepClone().AsObject();
        answer["key"] = secret;
        if (client is not null)
        {
            answer["clientSecret"] = clientSecret;
            answer["tokenEndpoint"] = TokenIssuer.TokenPath;
        }
        return (consumer, answer);
    }

    /// Removes the registration and revokes its credentials at once; the consumer's agreements stay as they are.
    private static async Task<IResult> DeleteAsync(HttpContext http, MarketStore store, Agreements agreements, AuditLog audit, string id)
    {
        var consumer = Own(http, store, id);
        agreements.Revoke(MarketApi.TenantOf(http), consumer);
        store.DeleteConsumer(MarketApi.TenantOf(http), id);
        await MarketApi.AuditAsync(http, audit, $"deleted consumer {id} '{consumer["name"]}', its credentials revoked");
        return Results.NoContent();
    }
}
