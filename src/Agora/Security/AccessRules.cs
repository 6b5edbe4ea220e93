namespace Agora.Security;

/// What a request needs, read from its method and path alone, so that it covers every NGSI-LD endpoint, those
/// added later included: reads need a consumer, writes a provider, the administration API an admin.
internal static class AccessRules
{
    public const string NgsiLdBase = "/ngsi-ld/v1";
    public const string AdminBase = "/admin/v1";
    public const string MarketBase = "/market/v1";

    /// The role a request needs and the right it exercises, as a 403 names it.
    public sealed record Need(Role Role, string Right);

    public static bool IsGuarded(HttpRequest request) =>
        request.Path.StartsWithSegments(NgsiLdBase, StringComparison.OrdinalIgnoreCase) || request.Path.StartsWithSegments(AdminBase, StringComparison.OrdinalIgnoreCase)
        || (request.Path.StartsWithSegments(MarketBase, StringComparison.OrdinalIgnoreCase) && !IsMarketPublic(request));

    // The market API's OpenAPI document describes routes, not data, so anyone may read it; an organisation that
    // signs up has no credential yet, so reading whether sign-up is open and signing up need none (the market
    // holds sign-ups to its own limits).
    private static bool IsMarketPublic(HttpRequest request) =>
        request.Path.Equals(MarketBase + "/openapi.json", StringComparison.OrdinalIgnoreCase)
        || (request.Path.Equals(MarketBase + "/signup", StringComparison.OrdinalIgnoreCase) && (HttpMethods.IsGet(request.Method) || HttpMethods.IsPost(request.Method)));

    public static bool IsAdminApi(PathString path) => path.StartsWithSegments(AdminBase, StringComparison.OrdinalIgnoreCase);

    public static bool IsContexts(PathString path) =>
        path.StartsWithSegments(NgsiLdBase + "/jsonldContexts", StringComparison.OrdinalIgnoreCase);

    public static Need NeedOf(HttpRequest request)
    {
        if (IsAdminApi(request.Path))
        {
            return new Need(Role.Admin, "admin (manage the tenant's credentials and read its audit log)");
        }
        if (request.Path.StartsWithSegments(MarketBase, StringComparison.OrdinalIgnoreCase, out var market))
        {
            return MarketNeedOf(request.Method, market.Value ?? "");
        }
        var read = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method);
        if (IsContexts(request.Path))
        {
            // A tenant's @contexts are its own; adding and deleting them is its admin's (the endpoint keeps the
            // Cached ones, shared by all, to the default tenant).
            return read ? new Need(Role.Consumer, "read") : new Need(Role.Admin, "manage the tenant's @contexts");
        }
        if (read || IsQuery(request))
        {
            return new Need(Role.Consumer, "read");
        }
        var rest = request.Path.Value![NgsiLdBase.Length..];
        // A consumer reads through subscriptions as well as queries, so it may manage them.
        return rest.StartsWith("/subscriptions", StringComparison.OrdinalIgnoreCase)
            ? new Need(Role.Consumer, "subscribe")
            : new Need(Role.Provider, "write");
    }

    // A consumer browses published offerings, requests agreements, reads its own agreements and their usage,
    // collects, rotates and revokes its agreements' credentials and ends its own agreements (the market API shows
    // it nothing else, and the endpoints check that the agreement is its own); data sources, every change of terms
    // and every other change of state are the city's.
    private static Need MarketNeedOf(string method, string rest)
    {
        var path = rest.Split('/', StringSplitOptions.RemoveEmptyEntries);
        static bool Is(string segment, string name) => segment.Equals(name, StringComparison.OrdinalIgnoreCase);
        var consumer = HttpMethods.IsGet(method)
            ? !(path is [var first, ..] && Is(first, "datasources"))
            : path switch
            {
                [var a] => HttpMethods.IsPost(method) && Is(a, "agreements"),
                [var a, _, var action] => Is(a, "agreements") && (HttpMethods.IsPost(method) && Is(action, "terminate")
                    || (HttpMethods.IsPost(method) || HttpMethods.IsDelete(method)) && Is(action, "credentials")),
                [var a, _, var c, var rotate] => HttpMethods.IsPost(method) && Is(a, "agreements") && Is(c, "credentials") && Is(rotate, "rotate"),
                _ => false,
            };
        return consumer ? new Need(Role.Consumer, "use the market") : new Need(Role.Admin, "manage the market (the city's data sources, offerings and agreements)");
    }

    // Queries sent as POST (entityOperations/query, temporal/entityOperations/query) are reads.
    private static bool IsQuery(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Path.Value!.EndsWith("/entityOperations/query", StringComparison.OrdinalIgnoreCase);
}
