using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Errors;
using Agora.Federation;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Storage;

namespace Agora.Discovery;

/// Entity type and attribute discovery (clauses 5.7.5–5.7.8; HTTP binding 6.25–6.28), per tenant, with names
/// compacted in the request's @context.
internal static class DiscoveryApi
{
    public static RouteGroupBuilder MapDiscovery(this RouteGroupBuilder group)
    {
        group.MapGet("/types", Types);
        group.MapGet("/types/{type}", TypeInfo);
        group.MapGet("/attributes", Attributes);
        group.MapGet("/attributes/{attrId}", AttributeInfo);
        return group;
    }

    private static async Task<IResult> Types(HttpContext http, TenantStores tenants, Distributed distributed)
    {
        var (store, context, mediaType) = await PrepareAsync(http, tenants, "details", "local");
        var scope = ScopeOf(http);
        var scoped = Scoped(http, store);
        if (!Details(http))
        {
            var types = scoped?.Types ?? store.Read(DiscoveryRows.Types)
                .Concat(await DistributedReads.NamesAsync(http, distributed, store, "retrieveEntityTypes", "/types", "typeList", context)).Distinct().Where(scope.Type);
            return new NgsiLdResult(new JsonObject
            {
                ["id"] = $"urn:ngsi-ld:EntityTypeList:{Guid.NewGuid()}",
                ["type"] = "EntityTypeList",
                ["typeList"] = Names(types, context),
            }, context, mediaType);
        }
        var pairs = scoped is not null
            ? [.. scoped.Types.SelectMany(t => scoped.AttributesOf(t).Select(a => (Type: t, Attribute: a)))]
            : store.Read(DiscoveryRows.AttributesOfTypes).Where(p => scope.Attribute(p.Attribute)).ToList();
        var all = scoped?.Types ?? store.Read(DiscoveryRows.Types).Where(scope.Type);
        var details = new JsonArray([.. all.Select(type => (JsonNode?)new JsonObject
        {
            ["id"] = type,
            ["type"] = "EntityType",
            ["typeName"] = context.CompactIri(type),
            ["attributeNames"] = Names(pairs.Where(p => p.Type == type).Select(p => p.Attribute), context),
        })]);
        return new NgsiLdResult(details, context, mediaType);
    }

    private static async Task<IResult> TypeInfo(HttpContext http, TenantStores tenants, string type)
    {
        var (store, context, mediaType) = await PrepareAsync(http, tenants, "local");
        var iri = Expand(NgsiLdRequest.PathValue(type), context, "type");
        var (count, attributes) = Scoped(http, store) is { } scoped
            ? (scoped.EntityCount(iri), scoped.AttributeDetails(iri).ToList())
            : store.Read(c => (DiscoveryRows.EntityCount(c, iri), DiscoveryRows.AttributeDetails(c, iri)));
        if (count == 0)
        {
            throw NgsiLdException.NotFound("Type not found", $"No entity has the type {type}.");
        }
        return new NgsiLdResult(new JsonObject
        {
            ["id"] = iri,
            ["type"] = "EntityTypeInfo",
            ["typeName"] = context.CompactIri(iri),
            ["entityCount"] = count,
            ["attributeDetails"] = new JsonArray([.. attributes.Where(a => ScopeOf(http).Attribute(a.Attribute)).GroupBy(a => a.Attribute).Select(g => (JsonNode?)new JsonObject
            {
                ["id"] = g.Key,
                ["type"] = "Attribute",
                ["attributeName"] = context.CompactIri(g.Key),
                ["attributeTypes"] = new JsonArray([.. g.Select(a => (JsonNode?)JsonValue.Create(a.AttributeType))]),
            })]),
        }, context, mediaType);
    }

    private static async Task<IResult> Attributes(HttpContext http, TenantStores tenants, Distributed distributed)
    {
        var (store, context, mediaType) = await PrepareAsync(http, tenants, "details", "local");
        var scope = http.Features.Get<DiscoveryScope>();
        var scoped = Scoped(http, store);
        if (!Details(http))
        {
            // Narrowed, the names come from the attributes of the visible types, not from every attribute.
            var names = scoped?.Attributes ?? (scope is null
                ? store.Read(DiscoveryRows.Attributes)
                    .Concat(await DistributedReads.NamesAsync(http, distributed, store, "retrieveAttrTypes", "/attributes", "attributeList", context)).Distinct()
                : store.Read(DiscoveryRows.TypesOfAttributes).Where(p => scope.Type(p.Type) && scope.Attribute(p.Attribute)).Select(p => p.Attribute).Distinct());
            return new NgsiLdResult(new JsonObject
            {
                ["id"] = $"urn:ngsi-ld:AttributeList:{Guid.NewGuid()}",
                ["type"] = "AttributeList",
                ["attributeList"] = Names(names, context),
            }, context, mediaType);
        }
        var pairs = scoped is not null
            ? scoped.Attributes.SelectMany(a => scoped.TypesHaving(a).Select(t => (Attribute: a, Type: t)))
            : store.Read(DiscoveryRows.TypesOfAttributes).Where(p => scope is null || (scope.Type(p.Type) && scope.Attribute(p.Attribute)));
        var details = new JsonArray([.. pairs.GroupBy(p => p.Attribute).Select(g => (JsonNode?)new JsonObject
        {
            ["id"] = g.Key,
            ["type"] = "Attribute",
            ["attributeName"] = context.CompactIri(g.Key),
            ["typeNames"] = Names(g.Select(p => p.Type), context),
        })]);
        return new NgsiLdResult(details, context, mediaType);
    }

    private static async Task<IResult> AttributeInfo(HttpContext http, TenantStores tenants, string attrId)
    {
        var (store, context, mediaType) = await PrepareAsync(http, tenants, "local");
        var iri = Expand(NgsiLdRequest.PathValue(attrId), context, "attribute");
        var (count, attributeTypes, typeNames) = Scoped(http, store) is { } scoped
            ? (scoped.AttributeCount(iri), scoped.AttributeTypes(iri).ToList(), scoped.TypesHaving(iri).ToList())
            : store.Read(c => (DiscoveryRows.AttributeCount(c, iri), DiscoveryRows.AttributeTypes(c, iri), DiscoveryRows.TypesHaving(c, iri)));
        if (count == 0)
        {
            throw NgsiLdException.NotFound("Attribute not found", $"No entity has the attribute {attrId}.");
        }
        return new NgsiLdResult(new JsonObject
        {
            ["id"] = iri,
            ["type"] = "Attribute",
            ["attributeName"] = context.CompactIri(iri),
            ["attributeCount"] = count,
            ["attributeTypes"] = new JsonArray([.. attributeTypes.Select(t => (JsonNode?)JsonValue.Create(t))]),
            ["typeNames"] = Names(typeNames.Where(ScopeOf(http).Type), context),
        }, context, mediaType);
    }

    private static async Task<(TenantStore Store, JsonLdContext Context, string MediaType)> PrepareAsync(
        HttpContext http, TenantStores tenants, params string[] parameters)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        var mediaType = MediaTypes.Negotiate(http.Request.Headers.Accept, allowGeoJson: false);
        NgsiLdRequest.AllowParameters(http, parameters);
        var context = await NgsiLdRequest.ContextAsync(http);
        return (tenants.Existing(tenant), context, mediaType);
    }

    private static readonly DiscoveryScope Everything = new(_ => true, _ => true);

    private static DiscoveryScope ScopeOf(HttpContext http) => http.Features.Get<DiscoveryScope>() ?? Everything;

    // The entities a scope sees, when it sees only some entities of its types; null when it sees whole types.
    private static ScopedDiscovery? Scoped(HttpContext http, TenantStore store) =>
        http.Features.Get<DiscoveryScope>() is { Entity: not null } scope
            ? new ScopedDiscovery(store.Read(c => DiscoveryRows.EntitiesOfTypes(c, DiscoveryRows.Types(c).Where(scope.Type))), scope)
            : null;

    private static bool Details(HttpContext http) => http.Request.Query["details"].ToString() switch
    {
        "" or "false" => false,
        "true" => true,
        var other => throw NgsiLdException.BadRequest("Invalid details", $"details must be true or false, not '{Entities.Names.Shorten(other)}'."),
    };

    private static string Expand(string name, JsonLdContext context, string what)
    {
        if (!Entities.Names.IsName(name) && !Entities.Names.IsUri(name))
        {
            throw NgsiLdException.BadRequest($"Invalid {what}", $"'{Entities.Names.Shorten(name)}' is not a valid {what} name.");
        }
        return context.ExpandTerm(name);
    }

    private static JsonArray Names(IEnumerable<string> iris, JsonLdContext context) =>
        new([.. iris.Select(i => (JsonNode?)JsonValue.Create(context.CompactIri(i)))]);
}
