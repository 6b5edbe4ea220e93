using System.Net;
using System.Text.Json.Nodes;
using Agora.Tests.Notifications;
using Agora.Tests.Security;
using Agora.Tests.Subscriptions;
using Microsoft.Extensions.DependencyInjection;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Market;

/// A consumer organisation's own credential reads through the union of its active agreements.
public sealed class UnionTests
{
    private const string Base = MarketAgora.Base;
    private const string Inside = EnforcementTests.Inside;
    private const string Outside = EnforcementTests.Outside;
    private const string Weather = "urn:ngsi-ld:WeatherObserved:centro";

    // Air quality in the district, two attributes.
    internal static readonly string AirInCentro = $$$"""
        {"name": "Centro", "entityTypes": ["AirQualityObserved"], "attributes": ["NO2", "PM10"], "area": {{{MarketAgora.District}}},
         "history": {"allowed": true, "window": "P30D"}}
        """;

    // Air quality everywhere, the third attribute only.
    internal const string AirTemperature =
        """{"name": "Temperatures", "entityTypes": ["AirQualityObserved"], "attributes": ["temperature"], "history": {"allowed": true}}""";

    private const string WeatherTemperature = """{"name": "Weather", "entityTypes": ["WeatherObserved"], "attributes": ["temperature"]}""";

    /// The city of EnforcementTests, a consumer organisation with its key, and two agreements of it: air quality
    /// in Centro (NO2, PM10) and the temperature of every air quality station.
    private static async Task<(MarketAgora Market, HttpClient Consumer, string Centro, string Temperatures)> UnionAsync(string centroTerms = "")
    {
        var market = await EnforcementTests.CityAsync();
        var organisation = await market.ConsumerOrganisationAsync();
        var centro = await market.AgreementOfAsync("Acme Mobility", AirInCentro, centroTerms);
        var temperatures = await market.AgreementOfAsync("Acme Mobility", AirTemperature);
        return (market, market.Consumer((string)organisation["key"]!), centro, temperatures);
    }

    private static Task<JsonNode> OkAsync(HttpResponseMessage response) => EnforcementTests.OkAsync(response);

    private static string[] Ids(JsonNode answer) => EnforcementTests.Ids(answer);

    private static string[] Members(JsonNode entity) => EnforcementTests.Members(entity);

    [Fact]
    public async Task AQueryReturnsEachEntityWithTheAttributesOfEveryAgreementCoveringIt()
    {
        var (market, consumer, _, _) = await UnionAsync();
        await using var _market = market;
        using var _consumer = consumer;

        var answer = await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&options=keyValues"));

        Assert.Equal([Inside, Outside], Ids(answer));
        Assert.Equal(["NO2", "PM10", "id", "temperature", "type"], Members(answer[0]!));
        Assert.Equal(["id", "temperature", "type"], Members(answer[1]!));
        Assert.Equal(41, (int)answer[0]!["NO2"]!);
        Assert.Equal(21.5, (double)answer[1]!["temperature"]!);
    }

    [Fact]
    public async Task CountAndPagesAreThoseOfTheUnion()
    {
        var (market, consumer, _, _) = await UnionAsync();
        await using var _market = market;
        using var _consumer = consumer;
        await market.AgreementOfAsync("Acme Mobility", WeatherTemperature);

        using var all = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved,WeatherObserved&count=true&options=keyValues");
        using var second = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved,WeatherObserved&count=true&limit=1&offset=1&options=keyValues");
        using var onlyCount = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved,WeatherObserved&count=true&limit=0");
        using var posted = await consumer.PostAsync("/ngsi-ld/v1/entityOperations/query?limit=2&count=true", Json(
            """{"type": "Query", "entities": [{"type": "AirQualityObserved"}, {"type": "WeatherObserved"}], "attrs": ["temperature", "NO2"]}"""));

        Assert.Equal([Inside, Outside, Weather], Ids(await OkAsync(all)));
        Assert.Equal("3", all.Headers.GetValues("NGSILD-Results-Count").Single());
        Assert.Equal([Outside], Ids(await OkAsync(second)));
        Assert.Equal("3", second.Headers.GetValues("NGSILD-Results-Count").Single());
        Assert.Empty((await OkAsync(onlyCount)).AsArray());
        Assert.Equal("3", onlyCount.Headers.GetValues("NGSILD-Results-Count").Single());
        var page = await OkAsync(posted);
        Assert.Equal([Inside, Outside], Ids(page));
        Assert.Equal("3", posted.Headers.GetValues("NGSILD-Results-Count").Single());
        Assert.Equal(["NO2", "id", "temperature", "type"], Members(page[0]!));
        Assert.Equal(["id", "temperature", "type"], Members(page[1]!));
    }

    [Fact]
    public async Task RetrieveMergesTheAgreementsAndRefusesWhatNoneCovers()
    {
        var (market, consumer, _, _) = await UnionAsync();
        await using var _market = market;
        using var _consumer = consumer;

        var inside = await OkAsync(await consumer.GetAsync(EntityPath(Inside) + "?options=keyValues"));
        var outside = await OkAsync(await consumer.GetAsync(EntityPath(Outside) + "?options=keyValues"));
        using var weather = await consumer.GetAsync(EntityPath(Weather));

        Assert.Equal(["NO2", "PM10", "id", "temperature", "type"], Members(inside));
        Assert.Equal(["id", "temperature", "type"], Members(outside));
        var problem = await NgsiLdAssert.ProblemAsync(weather, HttpStatusCode.Forbidden);
        Assert.Contains("No active agreement of the consumer 'Acme Mobility'", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Contains("WeatherObserved", (string?)problem["detail"], StringComparison.Ordinal);
        var audit = (await SecuredAgora.JsonAsync(await market.Admin.GetAsync("/admin/v1/audit?decision=denied"))).AsArray();
        Assert.Contains(audit, e => ((string)e!["reason"]!).StartsWith("consumer 'Acme Mobility': No active agreement", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DiscoveryShowsTheNamesOfEveryAgreement()
    {
        var (market, consumer, _, _) = await UnionAsync();
        await using var _market = market;
        using var _consumer = consumer;

        var types = await OkAsync(await consumer.GetAsync("/ngsi-ld/v1/types"));
        var attributes = await OkAsync(await consumer.GetAsync("/ngsi-ld/v1/attributes"));
        using var weather = await consumer.GetAsync("/ngsi-ld/v1/types/WeatherObserved");

        Assert.Equal(["AirQualityObserved"], types["typeList"]!.AsArray().Select(t => (string)t!));
        Assert.Equal(["NO2", "PM10", "temperature"], attributes["attributeList"]!.AsArray().Select(a => (string)a!).Order());
        await NgsiLdAssert.ProblemAsync(weather, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task TemporalReadsAreTheUnionOfTheHistories()
    {
        var (market, consumer, _, _) = await UnionAsync();
        await using var _market = market;
        using var _consumer = consumer;
        var at = DateTimeOffset.UtcNow.AddDays(-1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var id in new[] { Inside, Outside })
        {
            using var history = await market.Admin.PostAsync($"/ngsi-ld/v1/temporal/entities/{Uri.EscapeDataString(id)}/attrs", Json($$"""
                {"NO2": [{"type": "Property", "value": 30, "observedAt": "{{at}}"}], "temperature": [{"type": "Property", "value": 19, "observedAt": "{{at}}"}]}
                """));
            Assert.Equal(HttpStatusCode.NoContent, history.StatusCode);
        }

        var entity = await OkAsync(await consumer.GetAsync($"/ngsi-ld/v1/temporal/entities/{Uri.EscapeDataString(Inside)}?options=temporalValues"));
        var query = await OkAsync(await consumer.GetAsync("/ngsi-ld/v1/temporal/entities?type=AirQualityObserved&options=temporalValues"));

        Assert.Contains("NO2", Members(entity));
        Assert.Contains("temperature", Members(entity));
        Assert.Equal([Inside, Outside], Ids(query));
        Assert.Contains("NO2", Members(query[0]!));
        Assert.DoesNotContain("NO2", Members(query[1]!));
        Assert.Contains("temperature", Members(query[1]!));
    }

    [Fact]
    public async Task SuspendingAnAgreementShrinksTheUnionAtOnce()
    {
        var (market, consumer, _, temperatures) = await UnionAsync();
        await using var _market = market;
        using var _consumer = consumer;

        await market.ActAsync(temperatures, "suspend");
        var answer = await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&options=keyValues&count=true"));
        using var outside = await consumer.GetAsync(EntityPath(Outside));

        Assert.Equal([Inside], Ids(answer));
        Assert.Equal(["NO2", "PM10", "id", "type"], Members(answer[0]!));
        await NgsiLdAssert.ProblemAsync(outside, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task EachCoveringAgreementCountsTheCallAndASpentOneDropsOut()
    {
        var (market, consumer, centro, temperatures) = await UnionAsync(""" "quotas": {"callsPerDay": 1} """);
        await using var _market = market;
        using var _consumer = consumer;

        var first = await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&options=keyValues"));
        var second = await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&options=keyValues"));
        using var centroOnly = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&attrs=NO2");

        Assert.Contains("NO2", Members(first[0]!));
        // Centro's one call a day is spent: the union is the temperatures' alone.
        Assert.Equal([Inside, Outside], Ids(second));
        Assert.Equal(["id", "temperature", "type"], Members(second[0]!));
        await NgsiLdAssert.ProblemAsync(centroOnly, HttpStatusCode.TooManyRequests);
        Assert.NotNull(centroOnly.Headers.RetryAfter);
        Assert.Equal(1, await CallsAsync(market, centro));
        Assert.Equal(2, await CallsAsync(market, temperatures));
    }

    [Fact]
    public async Task ARequestNoAgreementCoversIsRefusedAndAConsumerWithoutAgreementsReadsNothing()
    {
        await using var market = await EnforcementTests.CityAsync();
        var organisation = await market.ConsumerOrganisationAsync("Nobody Yet");
        using var consumer = market.Consumer((string)organisation["key"]!);

        using var read = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved");

        var problem = await NgsiLdAssert.ProblemAsync(read, HttpStatusCode.Forbidden);
        Assert.Contains("no active agreement", (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOrganisationsKeyRequestsAgreementsForItselfAndSeesOnlyItsOwn()
    {
        var (market, consumer, centro, temperatures) = await UnionAsync();
        await using var _market = market;
        using var _consumer = consumer;
        var offering = await market.OfferingAsync(await market.DataSourceAsync(WeatherTemperature));
        var other = await market.AgreementOfAsync("Other Org", WeatherTemperature);

        using var forOther = await consumer.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{offering}}", "consumer": "Other Org"}"""));
        var own = await MarketAgora.RequestAsync(consumer, offering, "Acme Mobility");
        var visible = (await OkAsync(await consumer.GetAsync(Base + "/agreements"))).AsArray().Select(a => (string)a!["id"]!).ToList();
        using var others = await consumer.GetAsync($"{Base}/agreements/{other}");
        var consumers = (await OkAsync(await consumer.GetAsync(Base + "/consumers"))).AsArray();

        await NgsiLdAssert.ProblemAsync(forOther, HttpStatusCode.Forbidden);
        Assert.Equal("Acme Mobility", (string?)own["consumer"]);
        Assert.Equal([centro, temperatures, (string)own["id"]!], visible);
        Assert.Equal(HttpStatusCode.NotFound, others.StatusCode);
        Assert.Equal(["Acme Mobility"], consumers.Select(c => (string)c!["name"]!));
    }

    [Fact]
    public async Task TheOrganisationsOAuth2ClientReadsTheUnionAsItsKeyDoes()
    {
        await using var market = await EnforcementTests.CityAsync();
        var organisation = await market.ConsumerOrganisationAsync();
        await market.AgreementOfAsync("Acme Mobility", AirInCentro);
        await market.AgreementOfAsync("Acme Mobility", AirTemperature);
        var token = await IssuerTests.TokenAsync(market.App, (string)organisation["clientId"]!, (string)organisation["clientSecret"]!);
        using var bearer = market.App.BearerClient(token);

        var answer = await OkAsync(await bearer.GetAsync(EntitiesPath + "?type=AirQualityObserved&options=keyValues"));

        Assert.Equal([Inside, Outside], Ids(answer));
        Assert.Equal(["NO2", "PM10", "id", "temperature", "type"], Members(answer[0]!));
    }

    [Fact]
    public async Task ANameIsRegisteredOnceAndDeletingItRevokesItsKey()
    {
        await using var market = new MarketAgora();
        var organisation = await market.ConsumerOrganisationAsync();
        using var again = await market.Admin.PostAsync(Base + "/consumers", Json("""{"name": "Acme Mobility"}"""));
        using var unnamed = await market.Admin.PostAsync(Base + "/consumers", Json("""{"title": "Acme"}"""));
        using var deleted = await market.Admin.DeleteAsync($"{Base}/consumers/{organisation["id"]}");
        using var consumer = market.Consumer((string)organisation["key"]!);
        using var after = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved");

        await NgsiLdAssert.ProblemAsync(again, HttpStatusCode.Conflict);
        await NgsiLdAssert.ProblemAsync(unnamed, HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task ASubscriptionNotifiesWhatTheAgreementsActiveAtThatMomentCover()
    {
        var (market, consumer, centro, temperatures) = await UnionAsync();
        await using var _market = market;
        using var _consumer = consumer;
        await using var receiver = await NotificationReceiver.StartAsync();
        using (var subscribed = await consumer.PostAsync(SubscriptionClient.SubscriptionsPath, Json($$"""
            {"type": "Subscription", "entities": [{"type": "AirQualityObserved"}], "notification": {"endpoint": {"uri": "{{receiver.Url}}"} } }
            """)))
        {
            Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        }
        async Task<JsonNode> NotifiedAsync(string id, string json)
        {
            using var patched = await market.Admin.PatchAsync(AttrsPath(id), Json(json));
            Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);
            return JsonNode.Parse((await receiver.NextAsync(TimeSpan.FromSeconds(10))).Body)!["data"]!.AsArray().Single()!;
        }

        var inside = await NotifiedAsync(Inside, """{"NO2": {"type": "Property", "value": 44}}""");
        var outside = await NotifiedAsync(Outside, """{"temperature": {"type": "Property", "value": 25}}""");
        await market.ActAsync(centro, "suspend");
        var suspended = await NotifiedAsync(Inside, """{"temperature": {"type": "Property", "value": 26}}""");
        await market.ActAsync(temperatures, "terminate");
        using (var patched = await market.Admin.PatchAsync(AttrsPath(Inside), Json("""{"temperature": {"type": "Property", "value": 27}}""")))
        {
            Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (SubscriptionClient.Outbox(market.App).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(["NO2", "PM10", "id", "temperature", "type"], Members(inside));
        Assert.Equal(44, (int)inside["NO2"]!["value"]!);
        Assert.Equal(["id", "temperature", "type"], Members(outside));
        Assert.Equal(["id", "temperature", "type"], Members(suspended));
        Assert.Equal(3, receiver.Received.Count);
        Assert.Equal(1, await NotificationsAsync(market, centro));
        Assert.Equal(3, await NotificationsAsync(market, temperatures));
    }

    private static async Task<int> NotificationsAsync(MarketAgora market, string agreement)
    {
        using var usage = await market.Admin.GetAsync($"{Base}/agreements/{agreement}/usage");
        return (int)(await SecuredAgora.JsonAsync(usage))["days"]!.AsArray().Single()!["notifications"]!;
    }

    internal static async Task<int> CallsAsync(MarketAgora market, string agreement)
    {
        using var usage = await market.Admin.GetAsync($"{Base}/agreements/{agreement}/usage");
        return (int)(await SecuredAgora.JsonAsync(usage))["days"]!.AsArray().Single()!["calls"]!;
    }
}

/// Discovery under an agreement with an area or an id pattern counts the entities it covers, not every entity of
/// a covered type.
public sealed class DiscoveryCountTests
{
    [Fact]
    public async Task CountsAreOfTheEntitiesInsideTheAgreementsArea()
    {
        await using var market = await EnforcementTests.CityAsync();
        var (_, key) = await market.AgreementAsync(EnforcementTests.Source);
        using var consumer = market.Consumer(key);

        var type = await EnforcementTests.OkAsync(await consumer.GetAsync("/ngsi-ld/v1/types/AirQualityObserved"));
        var attribute = await EnforcementTests.OkAsync(await consumer.GetAsync("/ngsi-ld/v1/attributes/NO2"));
        var details = await EnforcementTests.OkAsync(await consumer.GetAsync("/ngsi-ld/v1/types?details=true"));
        var admin = await EnforcementTests.OkAsync(await market.Admin.GetAsync("/ngsi-ld/v1/types/AirQualityObserved"));

        Assert.Equal(1, (int)type["entityCount"]!);
        Assert.Equal(["NO2", "PM10"], type["attributeDetails"]!.AsArray().Select(a => (string)a!["attributeName"]!).Order());
        Assert.Equal(1, (int)attribute["attributeCount"]!);
        Assert.Equal(["AirQualityObserved"], attribute["typeNames"]!.AsArray().Select(t => (string)t!));
        Assert.Equal(["NO2", "PM10"], details.AsArray().Single()!["attributeNames"]!.AsArray().Select(a => (string)a!).Order());
        Assert.Equal(2, (int)admin["entityCount"]!);
    }

    [Fact]
    public async Task AnIdPatternLimitsTheCountAndTheUnionCountsWhatAnyAgreementSees()
    {
        await using var market = await EnforcementTests.CityAsync();
        var organisation = await market.ConsumerOrganisationAsync();
        await market.AgreementOfAsync("Acme Mobility", """{"name": "Vallecas", "entityTypes": ["AirQualityObserved"], "idPattern": "vallecas$"}""");
        using var consumer = market.Consumer((string)organisation["key"]!);
        var alone = await EnforcementTests.OkAsync(await consumer.GetAsync("/ngsi-ld/v1/types/AirQualityObserved"));
        await market.AgreementOfAsync("Acme Mobility", UnionTests.AirInCentro);

        var union = await EnforcementTests.OkAsync(await consumer.GetAsync("/ngsi-ld/v1/types/AirQualityObserved"));
        var temperature = await EnforcementTests.OkAsync(await consumer.GetAsync("/ngsi-ld/v1/attributes/temperature"));

        Assert.Equal(1, (int)alone["entityCount"]!);
        Assert.Equal(2, (int)union["entityCount"]!);
        Assert.Equal(1, (int)temperature["attributeCount"]!);
    }
}

/// A consumer's token of the city's identity provider names its organisation in the claim the market is told to
/// read, and is then held to that organisation's agreements.
public sealed class ExternalConsumerTests
{
    private readonly FakeIdentityProvider _idp = new();

    [Fact]
    public async Task TheConfiguredClaimNamesTheConsumerOfAnExternalToken()
    {
        await using var agora = new AgoraApplication([.. FakeIdentityProvider.Settings, ("Agora:Market:ConsumerClaim", "azp"),
            ("Agora:Security:RateLimit:PermitLimit", "0"), ("Agora:Market:OpenSignup", "true")]);
        await using var app = _idp.Trust(agora);
        var adminKey = app.Services.GetRequiredService<Agora.Security.Credentials>()
            .CreateApiKey("", new Agora.Security.CredentialRequest(Agora.Security.Role.Admin, null, "test", null, null)).Key;
        using var admin = app.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
        foreach (var entity in new[] { """{"id": "urn:ngsi-ld:AirQualityObserved:1", "type": "AirQualityObserved", "NO2": 40}""", """{"id": "urn:ngsi-ld:WeatherObserved:1", "type": "WeatherObserved", "temperature": 20}""" })
        {
            using var created = await admin.PostAsync(EntitiesPath, Json(entity));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var source = (string)(await SecuredAgora.JsonAsync(await admin.PostAsync(MarketAgora.Base + "/datasources",
            Json("""{"name": "Air", "entityTypes": ["AirQualityObserved"]}"""))))["id"]!;
        var offering = (string)(await SecuredAgora.JsonAsync(await admin.PostAsync(MarketAgora.Base + "/offerings", Json($$$"""
            {"dataSource": "{{{source}}}", "title": "Air", "licence": "CC-BY-4.0", "accessMode": "open", "pricePlan": {"type": "free"}}
            """))))["id"]!;
        (await admin.PostAsync($"{MarketAgora.Base}/offerings/{offering}/publish", null)).Dispose();
        using (var agreed = await admin.PostAsync(MarketAgora.Base + "/agreements", Json($$"""{"offering": "{{offering}}", "consumer": "oidc:acme-client"}""")))
        {
            Assert.Equal(HttpStatusCode.Created, agreed.StatusCode);
        }
        var agreement = (string)(await SecuredAgora.JsonAsync(await admin.GetAsync(MarketAgora.Base + "/agreements")))[0]!["id"]!;
        HttpClient Token(string azp)
        {
            var client = app.CreateClient();
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + _idp.Token(new Dictionary<string, object>
            {
                ["sub"] = "service-account-" + azp, ["azp"] = azp, ["roles"] = new[] { "consumer" },
            }));
            return client;
        }
        using var acme = Token("acme-client");
        using var stranger = Token("someone-else");

        var read = await EnforcementTests.OkAsync(await acme.GetAsync(EntitiesPath + "?type=AirQualityObserved,WeatherObserved"));
        using var weather = await acme.GetAsync(EntitiesPath + "?type=WeatherObserved");
        using var none = await stranger.GetAsync(EntitiesPath + "?type=WeatherObserved");

        Assert.Equal(["urn:ngsi-ld:AirQualityObserved:1"], EnforcementTests.Ids(read));
        await NgsiLdAssert.ProblemAsync(weather, HttpStatusCode.Forbidden);
        var problem = await NgsiLdAssert.ProblemAsync(none, HttpStatusCode.Forbidden);
        Assert.Contains("someone-else", (string?)problem["detail"], StringComparison.Ordinal);

        // An organisation that signs up under the client's id is another organisation: it reads nothing through the
        // client's agreement and does not find it; the token's namespace cannot be signed up at all.
        using var anonymous = app.CreateClient();
        using var squatter = await anonymous.PostAsync(MarketAgora.Base + "/signup", Json("""{"name": "acme-client"}"""));
        using var reserved = await anonymous.PostAsync(MarketAgora.Base + "/signup", Json("""{"name": "OIDC:acme-client"}"""));
        using var squatterKey = app.CreateClient();
        squatterKey.DefaultRequestHeaders.Add("X-Api-Key", (string)(await SecuredAgora.JsonAsync(squatter))["key"]!);
        using var squatterRead = await squatterKey.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        using var squatterCollect = await squatterKey.PostAsync($"{MarketAgora.Base}/agreements/{agreement}/credentials", null);
        using var tokenCollect = await acme.PostAsync($"{MarketAgora.Base}/agreements/{agreement}/credentials", null);

        Assert.Equal(HttpStatusCode.Created, squatter.StatusCode);
        await NgsiLdAssert.ProblemAsync(reserved, HttpStatusCode.BadRequest);
        await NgsiLdAssert.ProblemAsync(squatterRead, HttpStatusCode.Forbidden);
        await NgsiLdAssert.ProblemAsync(squatterCollect, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Created, tokenCollect.StatusCode);
    }
}
