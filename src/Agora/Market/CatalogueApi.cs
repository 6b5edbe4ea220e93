using System.Globalization;
using System.Text.Json.Nodes;
using Agora.Security;

namespace Agora.Market;

/// The public catalogue (DCAT-AP 3 in JSON-LD): every published offering that takes agreements (not closed), of
/// every tenant, as a dcat:Dataset with its licence and its terms as an ODRL offer, served by the NGSI-LD API as
/// a dcat:DataService, so that open-data portals (CKAN's DCAT harvester) can harvest it. It needs no credential
/// and shows nothing but published terms; it exists in Secured mode, with the market.
internal static class CatalogueApi
{
    public const string Path = "/catalog";
    private const string JsonLd = "application/ld+json";

    private static readonly JsonObject Context = new()
    {
        ["dcat"] = "http://www.w3.org/ns/dcat#",
        ["dct"] = "http://purl.org/dc/terms/",
        ["odrl"] = "http://www.w3.org/ns/odrl/2/",
        ["xsd"] = "http://www.w3.org/2001/XMLSchema#",
        ["locn"] = "http://www.w3.org/ns/locn#",
        ["gsp"] = "http://www.opengis.net/ont/geosparql#",
        ["foaf"] = "http://xmlns.com/foaf/0.1/",
    };

    public static IEndpointRouteBuilder MapCatalogue(this IEndpointRouteBuilder app)
    {
        if (!app.IsSecured())
        {
            return app;
        }
        app.MapGet(Path, (HttpContext http, MarketStore store) =>
        {
            var catalogue = new JsonObject
            {
                ["@context"] = Context.DeepClone(),
                ["@id"] = Base(http) + Path,
                ["@type"] = "dcat:Catalog",
                ["dct:title"] = "Agora data offerings",
                ["dct:description"] = "The data offerings of this Agora NGSI-LD broker, each with its licence and terms.",
                ["dcat:service"] = new JsonArray(Service(http)),
                ["dcat:dataset"] = new JsonArray([.. Offered(store).Select(o => (JsonNode?)Dataset(http, o))]),
            };
            return Results.Text(catalogue.ToJsonString(), JsonLd);
        });
        app.MapGet(Path + "/datasets/{id}", (HttpContext http, MarketStore store, string id) =>
        {
            var offering = Offered(store).FirstOrDefault(o => (string?)o["id"] == id)
                ?? throw Errors.NgsiLdException.NotFound("Dataset not found", $"The catalogue has no dataset '{Entities.Names.Shorten(id)}'.");
            var dataset = Dataset(http, offering);
            dataset["@context"] = Context.DeepClone();
            return Results.Text(dataset.ToJsonString(), JsonLd);
        });
        return app;
    }

    private static IEnumerable<JsonObject> Offered(MarketStore store) =>
        store.Published().Where(o => (string?)o["accessMode"] != "closed");

    private static string Base(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}";

    private static string ServiceId(HttpContext http) => Base(http) + Path + "#ngsi-ld";

    private static JsonObject Service(HttpContext http) => new()
    {
        ["@id"] = ServiceId(http),
        ["@type"] = "dcat:DataService",
        ["dct:title"] = "NGSI-LD API",
        ["dcat:endpointURL"] = Id(Base(http) + AccessRules.NgsiLdBase),
        ["dct:conformsTo"] = Id("https://www.etsi.org/deliver/etsi_gs/CIM/001_099/009/01.08.01_60/gs_CIM009v010801p.pdf"),
    };

    private static JsonObject Dataset(HttpContext http, JsonObject offering)
    {
        var id = (string)offering["id"]!;
        var iri = $"{Base(http)}{Path}/datasets/{id}";
        var dataset = new JsonObject
        {
            ["@id"] = iri,
            ["@type"] = "dcat:Dataset",
            ["dct:identifier"] = id,
            ["dct:title"] = (string)offering["title"]!,
            ["dct:description"] = (string?)offering["description"] ?? (string)offering["title"]!,
            ["dct:publisher"] = new JsonObject { ["@type"] = "foaf:Agent", ["foaf:name"] = (string)offering["tenant"]! is "" ? "default" : (string)offering["tenant"]! },
            ["dct:license"] = Licence(offering["licence"]!),
            ["odrl:hasPolicy"] = Policy(iri, offering),
            ["dcat:distribution"] = new JsonArray(new JsonObject
            {
                ["@type"] = "dcat:Distribution",
                ["dcat:accessURL"] = Id(Base(http) + AccessRules.NgsiLdBase),
                ["dcat:accessService"] = new JsonObject { ["@id"] = ServiceId(http) },
                ["dcat:mediaType"] = Id("https://www.iana.org/assignments/media-types/application/ld+json"),
            }),
        };
        return dataset;
    }

    // An SPDX id becomes its SPDX URI; a URI stays; a custom licence is described where it stands.
    private static JsonNode Licence(JsonNode licence) => licence switch
    {
        JsonValue v when (string)v! is var text && text.Contains("://", StringComparison.Ordinal) => Id(text),
        JsonValue v => Id("https://spdx.org/licenses/" + (string)v!),
        _ => new JsonObject
        {
            ["@type"] = "dct:LicenseDocument",
            ["dct:description"] = $"Custom licence: purpose {(string?)licence["purpose"]}, region {(string?)licence["region"]}, "
                + $"{((bool?)licence["exclusivity"] == true ? "exclusive" : "not exclusive")}, resale {((bool?)licence["resale"] == true ? "allowed" : "not allowed")}.",
        },
    };

    /// The offering's terms as an ODRL offer: reading (and subscribing) permitted under its quotas, purpose,
    /// region and period; paying its price a duty; resale prohibited unless the licence allows it.
    private static JsonObject Policy(string dataset, JsonObject offering)
    {
        var constraints = new JsonArray();
        if (offering["quotas"] is JsonObject quotas && quotas["callsPerDay"] is { } calls)
        {
            constraints.Add(Constraint("odrl:count", "odrl:lteq", Typed(calls.ToJsonString(), "xsd:integer")));
        }
        var licence = offering["licence"] as JsonObject;
        if (licence?["purpose"] is { } purpose)
        {
            constraints.Add(Constraint("odrl:purpose", "odrl:eq", (string)purpose!));
        }
        if (licence?["region"] is { } region)
        {
            constraints.Add(Constraint("odrl:spatial", "odrl:eq", (string)region!));
        }
        if (licence?["period"] is JsonObject period)
        {
            foreach (var (bound, op) in new[] { ("start", "odrl:gteq"), ("end", "odrl:lteq") })
            {
                if ((string?)period[bound] is { } at)
                {
                    constraints.Add(Constraint("odrl:dateTime", op, Typed(at, "xsd:dateTime")));
                }
            }
        }
        var permission = new JsonObject { ["odrl:target"] = Id(dataset), ["odrl:action"] = Id("odrl:use") };
        if (constraints.Count > 0)
        {
            permission["odrl:constraint"] = constraints;
        }
        if (offering["pricePlan"] is JsonObject plan && (string?)plan["type"] != "free")
        {
            var amount = Typed(((decimal)plan["amount"]!).ToString(CultureInfo.InvariantCulture), "xsd:decimal");
            permission["odrl:duty"] = new JsonArray(new JsonObject
            {
                ["odrl:action"] = Id("odrl:compensate"),
                ["dct:description"] = $"price plan {(string?)plan["type"]}" + ((string?)plan["period"] is { } every ? $", every {every}" : ""),
                ["odrl:constraint"] = new JsonArray(new JsonObject
                {
                    ["odrl:leftOperand"] = Id("odrl:payAmount"),
                    ["odrl:operator"] = Id("odrl:eq"),
                    ["odrl:rightOperand"] = amount,
                    ["odrl:unit"] = (string)plan["currency"]!,
                }),
            });
        }
        var policy = new JsonObject
        {
            ["@id"] = dataset + "#offer",
            ["@type"] = "odrl:Offer",
            ["odrl:assigner"] = new JsonObject { ["@type"] = "foaf:Agent", ["foaf:name"] = (string)offering["tenant"]! is "" ? "default" : (string)offering["tenant"]! },
            ["odrl:permission"] = new JsonArray(permission),
        };
        if (licence is not null && (bool?)licence["resale"] != true)
        {
            policy["odrl:prohibition"] = new JsonArray(new JsonObject { ["odrl:target"] = Id(dataset), ["odrl:action"] = Id("odrl:sell") });
        }
        return policy;
    }

    private static JsonObject Constraint(string left, string op, JsonNode right) => new()
    {
        ["odrl:leftOperand"] = Id(left),
        ["odrl:operator"] = Id(op),
        ["odrl:rightOperand"] = right,
    };

    private static JsonObject Typed(string value, string type) => new() { ["@value"] = value, ["@type"] = type };

    private static JsonObject Id(string iri) => new() { ["@id"] = iri };
}
