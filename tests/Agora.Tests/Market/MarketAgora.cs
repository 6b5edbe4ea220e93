using System.Net;
using System.Text.Json.Nodes;
using Agora.Security;
using Agora.Tests.Security;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Market;

/// A secured Agora with the city's admin, and the steps of the market a test needs, taken over HTTP as a city
/// and a consumer would.
internal sealed class MarketAgora : IAsyncDisposable
{
    public const string Base = "/market/v1";

    // A district of a city, and a point inside and one outside it.
    public const string District = """{"type": "Polygon", "coordinates": [[[-3.71, 40.41], [-3.69, 40.41], [-3.69, 40.43], [-3.71, 40.43], [-3.71, 40.41]]]}""";

    public MarketAgora(string tenant = "", params (string Key, string Value)[] settings)
    {
        // The per-credential rate limit is the security issue's; these tests meter through agreements.
        App = SecuredAgora.Create([("Agora:Security:RateLimit:PermitLimit", "0"), .. settings]);
        Tenant = tenant;
        Admin = App.Client(App.Key(tenant, Role.Admin), tenant == "" ? null : tenant);
    }

    public AgoraApplication App { get; }

    public string Tenant { get; }

    public HttpClient Admin { get; }

    /// A client with this key, or with a tenant-wide consumer key (a city's own app, which reads the whole tenant).
    public HttpClient Consumer(string? key = null) =>
        App.Client(key ?? App.Key(Tenant, Role.Consumer), Tenant == "" ? null : Tenant);

    // The consumer accounts registered so far, by name: a test asks for one as often as it likes.
    private readonly Dictionary<string, JsonObject> _accounts = [];

    /// A client with the key of the named consumer account, registered by the city the first time.
    public async Task<HttpClient> AccountAsync(string name = "Acme Mobility") =>
        Consumer((string)(await ConsumerOrganisationAsync(name))["key"]!);

    /// The consumer account collects the credential of its approved agreement: the answer, with the key once.
    public static async Task<JsonObject> CollectAsync(HttpClient account, string agreement, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var response = await account.PostAsync($"{Base}/agreements/{agreement}/credentials", null);
        Assert.Equal(expected, response.StatusCode);
        return (await SecuredAgora.JsonAsync(response)).AsObject();
    }

    public async Task<string> DataSourceAsync(string json)
    {
        using var response = await Admin.PostAsync(Base + "/datasources", Json(json));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await SecuredAgora.JsonAsync(response))["id"]!;
    }

    /// A published offering of this data source with these extra members (JSON object members, no braces).
    public async Task<string> OfferingAsync(string dataSource, string members = "", bool publish = true)
    {
        var body = $$$"""{"dataSource": "{{{dataSource}}}", "title": "Air quality", "licence": "CC-BY-4.0", "accessMode": "approval", "pricePlan": {"type": "free"}}""";
        var offering = JsonNode.Parse(body)!.AsObject();
        if (members != "")
        {
            foreach (var (name, value) in JsonNode.Parse("{" + members + "}")!.AsObject().ToList())
            {
                offering[name] = value?.DeepClone();
            }
        }
        using var response = await Admin.PostAsync(Base + "/offerings", Json(offering.ToJsonString()));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (string)(await SecuredAgora.JsonAsync(response))["id"]!;
        if (publish)
        {
            using var published = await Admin.PostAsync($"{Base}/offerings/{id}/publish", null);
            Assert.Equal(HttpStatusCode.OK, published.StatusCode);
        }
        return id;
    }

    public static async Task<JsonObject> RequestAsync(HttpClient client, string offering, string consumer = "Acme Mobility")
    {
        using var response = await client.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{offering}}", "consumer": "{{consumer}}"}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await SecuredAgora.JsonAsync(response)).AsObject();
    }

    public async Task<JsonObject> ActAsync(string agreement, string action, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Admin.PostAsync($"{Base}/agreements/{agreement}/{action}", null);
        Assert.Equal(expected, response.StatusCode);
        return (await SecuredAgora.JsonAsync(response)).AsObject();
    }

    /// A data source, a published approval offering of it, the consumer account's request, the city's approval
    /// and the account's collection of the agreement's credential: the agreement's id and its key.
    public async Task<(string Agreement, string Key)> AgreementAsync(string dataSource, string offeringMembers = "")
    {
        var offering = await OfferingAsync(await DataSourceAsync(dataSource), offeringMembers);
        using var account = await AccountAsync();
        var requested = await RequestAsync(account, offering);
        var approved = await ActAsync((string)requested["id"]!, "approve");
        var collected = await CollectAsync(account, (string)approved["id"]!);
        return ((string)approved["id"]!, (string)collected["key"]!);
    }

    /// Registers a consumer organisation (once: later calls give the first registration): its registration,
    /// with its key (and OAuth2 client).
    public async Task<JsonObject> ConsumerOrganisationAsync(string name = "Acme Mobility")
    {
        if (_accounts.TryGetValue(name, out var registered))
        {
            return registered;
        }
        using var response = await Admin.PostAsync(Base + "/consumers", Json($$"""{"name": "{{name}}"}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return _accounts[name] = (await SecuredAgora.JsonAsync(response)).AsObject();
    }

    /// An agreement the city requests for the named consumer over this data source, with these offering members,
    /// and approves.
    public async Task<string> AgreementOfAsync(string consumer, string dataSource, string offeringMembers = "")
    {
        var offering = await OfferingAsync(await DataSourceAsync(dataSource), offeringMembers);
        var requested = await RequestAsync(Admin, offering, consumer);
        return (string)(await ActAsync((string)requested["id"]!, "approve"))["id"]!;
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await App.DisposeAsync();
    }
}
