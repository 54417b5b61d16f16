/* acledgen.c - generated ACLED-format rows for Vigil's import benchmark (S11), and the
 * machine's ceiling for reading them.
 *
 *   acledgen rows N [SEED]      writes a header and N rows of the ACLED 31-column layout
 *                               (event_id_cnty ... timestamp) to stdout
 *   acledgen queries N [SEED]   writes N request paths for loadgen --paths-file:
 *                               /api/v1/reports?bbox=...&since=...&until=... around the places
 *                               the rows are generated at, over 30-day windows of their years
 *   acledgen parse FILE         the ceiling: reads FILE with a trivial RFC 4180 reader (quotes,
 *                               doubled quotes, commas and newlines in fields), counts records
 *                               and fields; prints rows/s
 *
 * Deterministic: the same N and SEED give the same bytes. The rows look like ACLED's: 15
 * conflict countries weighted roughly as in ACLED's 2018-2025 data, admin1 areas with their
 * real centres, localities scattered within ~40 km of them, event and sub-event types with
 * ACLED's frequencies (only types Vigil maps to PLOVER, so every row is stored), the actor
 * names, inter codes, interaction, source, source_scale and notes ACLED writes (notes are
 * quoted; some contain commas and doubled quotes), dates as "06 June 2025" or "2025-06-06",
 * time and geo precision 1-3. Events span 2018-01-01 .. 2025-12-31, in date order per
 * country block, as an ACLED export is.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static unsigned pick(unsigned n) { return (unsigned)(rnd() % n); }

struct admin1 {
    const char *name;
    double lat, lon;
    const char *towns[4];
};

struct country {
    const char *name, *iso3, *region;
    int iso;
    unsigned weight;             /* share of rows, per mille */
    const char *state_forces;    /* actor1 of state events */
    const char *rebels[3];       /* non-state armed groups */
    const char *militia;
    struct admin1 a1[5];
};

static const struct country countries[] = {
    {"Ukraine", "UKR", "Europe", 804, 260, "Military Forces of Russia (2000-)",
     {"Military Forces of Ukraine (2019-)", "Wagner Group", "Russian Volunteer Corps"},
     "Unidentified Armed Group (Ukraine)",
     {{"Donetsk", 48.0159, 37.8028, {"Bakhmut", "Avdiivka", "Pokrovsk", "Horlivka"}},
      {"Kharkiv", 49.9935, 36.2304, {"Kupiansk", "Vovchansk", "Izium", "Chuhuiv"}},
      {"Zaporizhia", 47.8388, 35.1396, {"Orikhiv", "Huliaipole", "Vasylivka", "Tokmak"}},
      {"Kherson", 46.6354, 32.6169, {"Beryslav", "Nova Kakhovka", "Kherson", "Antonivka"}},
      {"Luhansk", 48.574, 39.3078, {"Sievierodonetsk", "Lysychansk", "Kreminna", "Svatove"}}}},
    {"Palestine", "PSE", "Middle East", 275, 150, "Military Forces of Israel (2022-)",
     {"Hamas Movement", "Palestinian Islamic Jihad", "Al Aqsa Martyrs Brigade"},
     "Settlers (Israel)",
     {{"Gaza Strip", 31.45, 34.40, {"Gaza City", "Khan Yunis", "Rafah", "Deir al Balah"}},
      {"West Bank", 31.95, 35.25, {"Jenin", "Nablus", "Tulkarm", "Hebron"}},
      {"Gaza Strip", 31.53, 34.48, {"Beit Hanoun", "Jabalia", "Beit Lahia", "Shujaiyeh"}},
      {"West Bank", 32.22, 35.25, {"Tubas", "Qalqilya", "Salfit", "Ramallah"}},
      {"Gaza Strip", 31.30, 34.27, {"Rafah", "Bani Suheila", "Abasan", "Khuza'a"}}}},
    {"Syria", "SYR", "Middle East", 760, 110, "Military Forces of Syria (2000-2024)",
     {"Hayat Tahrir al Sham", "Syrian Democratic Forces", "Islamic State (Syria)"},
     "Unidentified Armed Group (Syria)",
     {{"Idleb", 35.9306, 36.6339, {"Maarat al Numan", "Saraqab", "Ariha", "Jisr al Shughur"}},
      {"Aleppo", 36.2021, 37.1343, {"Al Bab", "Manbij", "Afrin", "Azaz"}},
      {"Deir-ez-Zor", 35.3359, 40.1408, {"Al Mayadin", "Hajin", "Al Bukamal", "Thiban"}},
      {"Dar'a", 32.6189, 36.1021, {"Tafas", "Nawa", "Busra al Sham", "Jasim"}},
      {"Ar-Raqqa", 35.9528, 39.0079, {"Tabqa", "Ein Issa", "Tal Abyad", "Mansura"}}}},
    {"Yemen", "YEM", "Middle East", 887, 70, "Military Forces of Yemen (2017-) Houthi",
     {"Military Forces of Yemen (2012-) Hadi", "Southern Transitional Council", "AQAP"},
     "Tribal Militia (Yemen)",
     {{"Taizz", 13.5795, 44.0209, {"Al Mudhaffar", "Maqbanah", "Sabir al Mawadim", "Salh"}},
      {"Al Hudaydah", 14.7978, 42.9545, {"Hays", "At Tuhayta", "Ad Durayhimi", "Az Zuhrah"}},
      {"Marib", 15.4627, 45.3223, {"Sirwah", "Raghwan", "Madghal", "Harib"}},
      {"Sa'dah", 16.9402, 43.7639, {"Shida", "Razih", "Baqim", "Munabbih"}},
      {"Al Dali", 13.6957, 44.7314, {"Qatabah", "Murays", "Al Husha", "Damt"}}}},
    {"Myanmar", "MMR", "Southeast Asia", 104, 60, "Military Forces of Myanmar (2021-)",
     {"KIA: Kachin Independence Army", "AA: Arakan Army", "PDF: People's Defense Force"},
     "Pyu Saw Htee",
     {{"Sagaing", 21.8787, 95.9797, {"Monywa", "Kale", "Shwebo", "Yinmabin"}},
      {"Rakhine", 20.1041, 93.5813, {"Sittwe", "Kyauktaw", "Minbya", "Mrauk-U"}},
      {"Kachin", 25.3833, 97.3958, {"Myitkyina", "Bhamo", "Hpakant", "Waingmaw"}},
      {"Magway", 20.1496, 94.9325, {"Pauk", "Gangaw", "Saw", "Myaing"}},
      {"Kayin", 16.8815, 97.6342, {"Myawaddy", "Hpa-An", "Kawkareik", "Hlaingbwe"}}}},
    {"Sudan", "SDN", "Northern Africa", 729, 50, "Military Forces of Sudan (2019-)",
     {"Rapid Support Forces", "SPLM-N: Sudan People's Liberation Movement-North", "JEM"},
     "Arab Ethnic Militia (Sudan)",
     {{"Khartoum", 15.5007, 32.5599, {"Omdurman", "Bahri", "Khartoum", "Jebel Aulia"}},
      {"North Darfur", 13.6279, 25.3494, {"El Fasher", "Kutum", "Tawila", "Kabkabiya"}},
      {"West Darfur", 13.4527, 22.4472, {"El Geneina", "Kreinik", "Sirba", "Misterei"}},
      {"South Kordofan", 11.0179, 29.7149, {"Kadugli", "Dilling", "Abu Jubayhah", "Talodi"}},
      {"Al Jazirah", 14.4012, 33.5199, {"Wad Madani", "Rufaa", "Al Hasahisa", "Al Managil"}}}},
    {"Mali", "MLI", "Western Africa", 466, 40, "Military Forces of Mali (2021-)",
     {"JNIM: Group for Support of Islam and Muslims", "Islamic State (Sahel)",
      "CSP-DPA: Permanent Strategic Framework for Peace, Security and Development"},
     "Dozo Communal Militia (Mali)",
     {{"Mopti", 14.4843, -4.1827, {"Bandiagara", "Djenne", "Douentza", "Bankass"}},
      {"Segou", 13.4317, -6.2157, {"Niono", "Macina", "San", "Tominian"}},
      {"Gao", 16.2666, -0.0400, {"Ansongo", "Bourem", "Menaka", "Tessit"}},
      {"Timbuktu", 16.7666, -3.0026, {"Goundam", "Niafunke", "Dire", "Gourma-Rharous"}},
      {"Kidal", 18.4411, 1.4078, {"Tessalit", "Aguelhok", "Anefis", "Abeibara"}}}},
    {"Burkina Faso", "BFA", "Western Africa", 854, 40, "Military Forces of Burkina Faso (2022-)",
     {"JNIM: Group for Support of Islam and Muslims", "Islamic State (Sahel)", "Ansaroul Islam"},
     "VDP: Volunteers for the Defense of the Homeland",
     {{"Sahel", 14.0343, -0.0344, {"Djibo", "Dori", "Gorom-Gorom", "Arbinda"}},
      {"Est", 12.0617, 0.3653, {"Fada N'Gourma", "Diapaga", "Pama", "Kantchari"}},
      {"Nord", 13.5828, -2.4216, {"Ouahigouya", "Titao", "Thiou", "Seguenega"}},
      {"Boucle du Mouhoun", 12.4598, -3.4617, {"Dedougou", "Nouna", "Solenzo", "Tougan"}},
      {"Centre-Nord", 13.0917, -1.0844, {"Kaya", "Kongoussi", "Barsalogho", "Boulsa"}}}},
    {"Democratic Republic of Congo", "COD", "Middle Africa", 180, 50,
     "Military Forces of the Democratic Republic of Congo (2019-)",
     {"M23: March 23 Movement", "ADF: Allied Democratic Forces", "CODECO: Cooperative for the Development of Congo"},
     "Mai-Mai Militia",
     {{"Nord-Kivu", -0.7918, 29.0459, {"Goma", "Beni", "Butembo", "Rutshuru"}},
      {"Sud-Kivu", -2.5083, 28.8608, {"Bukavu", "Uvira", "Kalehe", "Fizi"}},
      {"Ituri", 1.5594, 30.2573, {"Bunia", "Djugu", "Mambasa", "Irumu"}},
      {"Tanganyika", -5.9392, 29.1948, {"Kalemie", "Nyunzu", "Manono", "Moba"}},
      {"Kasai", -5.0469, 20.7122, {"Tshikapa", "Luebo", "Ilebo", "Mweka"}}}},
    {"Nigeria", "NGA", "Western Africa", 566, 50, "Military Forces of Nigeria (2023-)",
     {"Boko Haram - Jamaatu Ahli is-Sunnah lid-Dawati wal-Jihad", "Islamic State West Africa Province (ISWAP)",
      "Fulani Ethnic Militia (Nigeria)"},
     "Vigilante Militia (Nigeria)",
     {{"Borno", 11.8333, 13.1500, {"Maiduguri", "Bama", "Gwoza", "Konduga"}},
      {"Zamfara", 12.1222, 6.2236, {"Gusau", "Anka", "Maru", "Tsafe"}},
      {"Kaduna", 10.5105, 7.4165, {"Kaduna", "Zaria", "Kajuru", "Birnin Gwari"}},
      {"Plateau", 9.2182, 9.5179, {"Jos", "Bokkos", "Mangu", "Barkin Ladi"}},
      {"Benue", 7.3369, 8.7404, {"Makurdi", "Gboko", "Guma", "Agatu"}}}},
    {"Somalia", "SOM", "Eastern Africa", 706, 40, "Military Forces of Somalia (2022-)",
     {"Al Shabaab", "Islamic State (Somalia)", "Ahlu Sunna Wal Jamaa"},
     "Clan Militia (Somalia)",
     {{"Banadir", 2.0469, 45.3182, {"Mogadishu-Hodan", "Mogadishu-Dayniile", "Mogadishu-Yaqshid", "Mogadishu-Kaaraan"}},
      {"Lower Shabelle", 1.8767, 44.2479, {"Afgooye", "Marka", "Qoryooley", "Baraawe"}},
      {"Middle Shabelle", 2.9264, 45.5029, {"Jowhar", "Balcad", "Adan Yabaal", "Warsheikh"}},
      {"Hiraan", 4.3213, 45.2994, {"Beledweyne", "Buulobarde", "Jalalaqsi", "Mataban"}},
      {"Bay", 2.4833, 43.4833, {"Baidoa", "Burhakaba", "Diinsoor", "Qansax Dheere"}}}},
    {"Afghanistan", "AFG", "Caucasus and Central Asia", 4, 30, "Taliban",
     {"Islamic State (Afghanistan)", "NRF: National Resistance Front", "Afghanistan Freedom Front"},
     "Unidentified Armed Group (Afghanistan)",
     {{"Helmand", 31.5938, 64.3716, {"Lashkar Gah", "Nad Ali", "Sangin", "Garmser"}},
      {"Kandahar", 31.6289, 65.7372, {"Kandahar", "Spin Boldak", "Arghandab", "Panjwayi"}},
      {"Nangarhar", 34.4265, 70.4515, {"Jalalabad", "Achin", "Khogyani", "Surkh Rod"}},
      {"Panjshir", 35.3104, 69.5209, {"Bazarak", "Rukha", "Dara", "Anaba"}},
      {"Kunduz", 36.7286, 68.8681, {"Kunduz", "Imam Sahib", "Chahar Dara", "Dasht-e-Archi"}}}},
    {"Lebanon", "LBN", "Middle East", 422, 20, "Military Forces of Israel (2022-)",
     {"Hezbollah", "Amal Movement", "Hamas Movement"},
     "Unidentified Armed Group (Lebanon)",
     {{"El Nabatieh", 33.3772, 35.4836, {"Nabatieh", "Khiam", "Kfar Kila", "Marjayoun"}},
      {"South", 33.2721, 35.2033, {"Tyre", "Bint Jbeil", "Naqoura", "Aita al Shaab"}},
      {"Baalbek-Hermel", 34.0058, 36.2181, {"Baalbek", "Hermel", "Brital", "Qasr"}},
      {"Mount Lebanon", 33.8106, 35.5973, {"Baabda", "Aley", "Choueifat", "Damour"}},
      {"Bekaa", 33.8463, 35.9020, {"Zahle", "Chtaura", "Mashghara", "Sohmor"}}}},
    {"Iraq", "IRQ", "Middle East", 368, 20, "Military Forces of Iraq (2022-)",
     {"Islamic State (Iraq)", "PKK: Kurdistan Workers Party", "Kataib Hezbollah"},
     "Tribal Militia (Iraq)",
     {{"Diyala", 33.7733, 45.1495, {"Baqubah", "Khanaqin", "Muqdadiyah", "Balad Ruz"}},
      {"Kirkuk", 35.4681, 44.3922, {"Kirkuk", "Hawija", "Daquq", "Dibis"}},
      {"Ninewa", 36.3350, 43.1189, {"Mosul", "Sinjar", "Tal Afar", "Makhmour"}},
      {"Al-Anbar", 33.4206, 43.3078, {"Ramadi", "Fallujah", "Hit", "Al Qaim"}},
      {"Duhok", 36.8669, 42.9503, {"Amadiya", "Zakho", "Sharya", "Batifa"}}}},
    {"Mexico", "MEX", "North America", 484, 10, "Police Forces of Mexico (2018-)",
     {"Jalisco New Generation Cartel", "Sinaloa Cartel", "Gulf Cartel"},
     "Unidentified Gang (Mexico)",
     {{"Guanajuato", 21.019, -101.2574, {"Celaya", "Irapuato", "Leon", "Salamanca"}},
      {"Michoacan", 19.5665, -101.7068, {"Uruapan", "Zamora", "Apatzingan", "Morelia"}},
      {"Guerrero", 17.4392, -99.5451, {"Acapulco", "Chilpancingo", "Iguala", "Tlapa"}},
      {"Sinaloa", 25.1721, -107.4795, {"Culiacan", "Mazatlan", "Los Mochis", "Navolato"}},
      {"Chihuahua", 28.6330, -106.0691, {"Ciudad Juarez", "Chihuahua", "Parral", "Guachochi"}}}},
};
#define NCOUNTRIES (sizeof countries / sizeof countries[0])

/* Event and sub-event types, weights per mille (ACLED 2018-2025, roughly), as mapped by Vigil. */
static const struct etype {
    const char *type, *sub, *disorder;
    unsigned weight;
    int kind; /* 0 state vs rebel, 1 remote, 2 against civilians, 3 protest, 4 riot, 5 strategic */
} etypes[] = {
    {"Battles", "Armed clash", "Political violence", 190, 0},
    {"Battles", "Government regains territory", "Political violence", 6, 0},
    {"Battles", "Non-state actor overtakes territory", "Political violence", 6, 0},
    {"Explosions/Remote violence", "Shelling/artillery/missile attack", "Political violence", 230, 1},
    {"Explosions/Remote violence", "Air/drone strike", "Political violence", 120, 1},
    {"Explosions/Remote violence", "Remote explosive/landmine/IED", "Political violence", 25, 1},
    {"Explosions/Remote violence", "Grenade", "Political violence", 4, 1},
    {"Explosions/Remote violence", "Suicide bomb", "Political violence", 1, 1},
    {"Violence against civilians", "Attack", "Political violence", 80, 2},
    {"Violence against civilians", "Abduction/forced disappearance", "Political violence", 15, 2},
    {"Violence against civilians", "Sexual violence", "Political violence", 2, 2},
    {"Protests", "Peaceful protest", "Demonstrations", 170, 3},
    {"Protests", "Protest with intervention", "Demonstrations", 12, 3},
    {"Protests", "Excessive force against protesters", "Political violence; Demonstrations", 1, 3},
    {"Riots", "Violent demonstration", "Demonstrations", 40, 4},
    {"Riots", "Mob violence", "Demonstrations", 20, 4},
    {"Strategic developments", "Looting/property destruction", "Strategic developments", 25, 5},
    {"Strategic developments", "Arrests", "Strategic developments", 20, 5},
    {"Strategic developments", "Disrupted weapons use", "Strategic developments", 15, 5},
    {"Strategic developments", "Headquarters or base established", "Strategic developments", 8, 5},
    {"Strategic developments", "Non-violent transfer of territory", "Strategic developments", 5, 5},
    {"Strategic developments", "Agreement", "Strategic developments", 5, 5},
};
#define NETYPES (sizeof etypes / sizeof etypes[0])

static const char *const sources[] = {
    "Ukrinform", "Al Jazeera", "Reuters", "Agence France Presse", "Xinhua", "BBC News",
    "Ministry of Defence of Ukraine", "WAFA", "Syrian Observatory for Human Rights",
    "Radio Dabanga", "Premium Times", "Garowe Online", "Irrawaddy", "Tolo News",
    "L'Orient-Le Jour", "Shafaq News", "Milenio", "Crisis Group", "Twitter; Local sources",
    "Associated Press", "Liveuamap", "New Humanitarian",
};
static const char *const scales[] = {"National", "International", "Subnational", "Local partner-National",
                                     "New media", "Other-National", "National-International"};
static const char *const months[] = {"January", "February", "March", "April", "May", "June",
                                     "July", "August", "September", "October", "November",
                                     "December"};

#define DAY0 17532 /* 2018-01-01, days since the epoch */
#define NDAYS 2922 /* to 2025-12-31 */

static unsigned weighted_country(void)
{
    unsigned t = 0, r;
    for (size_t i = 0; i < NCOUNTRIES; i++)
        t += countries[i].weight;
    r = pick(t);
    for (size_t i = 0; i < NCOUNTRIES; i++) {
        if (r < countries[i].weight)
            return (unsigned)i;
        r -= countries[i].weight;
    }
    return 0;
}

static unsigned weighted_etype(void)
{
    unsigned t = 0, r;
    for (size_t i = 0; i < NETYPES; i++)
        t += etypes[i].weight;
    r = pick(t);
    for (size_t i = 0; i < NETYPES; i++) {
        if (r < etypes[i].weight)
            return (unsigned)i;
        r -= etypes[i].weight;
    }
    return 0;
}

static void put_field(const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* inter codes: 1 state forces, 2 rebels, 3 political militia, 4 identity militia, 5 rioters,
 * 6 protesters, 7 civilians, 8 external forces */
static int rows(long n, uint64_t seed)
{
    rng_state = seed;
    static char buf[1 << 20];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    fputs("event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
          "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
          "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,"
          "source,source_scale,notes,fatalities,tags,timestamp\n",
          stdout);
    long serial[NCOUNTRIES] = {0};
    for (long i = 0; i < n; i++) {
        const struct country *c = &countries[weighted_country()];
        size_t ci = (size_t)(c - countries);
        const struct admin1 *a = &c->a1[pick(5)];
        unsigned town = pick(4);
        const struct etype *e = &etypes[weighted_etype()];
        /* the row's day follows the row number, so the export is in date order, with a
         * few days of jitter (late reports) */
        long day = DAY0 + (long)((double)i * NDAYS / (double)n) - (long)pick(4);
        if (day < DAY0)
            day = DAY0;
        time_t t = (time_t)day * 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        char date[32];
        if (i % 5 == 0)
            snprintf(date, sizeof date, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday);
        else
            snprintf(date, sizeof date, "%02d %s %04d", tm.tm_mday, months[tm.tm_mon],
                     tm.tm_year + 1900);
        unsigned tp = unif() < 0.85 ? 1 : unif() < 0.8 ? 2 : 3;
        unsigned gp = unif() < 0.75 ? 1 : unif() < 0.85 ? 2 : 3;
        /* a locality: a town of the admin1 area, or a village within ~40 km of its centre */
        double lat = a->lat + (town - 1.5) * 0.08 + (unif() - 0.5) * 0.7;
        double lon = a->lon + (town - 1.5) * 0.08 + (unif() - 0.5) * 0.7;
        char locname[96];
        if (pick(3) == 0)
            snprintf(locname, sizeof locname, "%s", a->towns[town]);
        else
            snprintf(locname, sizeof locname, "%s-%u", a->towns[town], pick(400));
        const char *actor1 = c->state_forces, *actor2 = "", *assoc1 = "", *assoc2 = "";
        int inter1 = 1, inter2 = 0;
        const char *civ = "";
        unsigned fat = 0;
        char actor1buf[160], actor2buf[160];
        switch (e->kind) {
        case 0:
            actor2 = c->rebels[pick(3)];
            inter2 = 2;
            if (pick(3) == 0) {
                const char *t0 = actor1;
                actor1 = actor2;
                actor2 = t0;
                inter1 = 2;
                inter2 = 1;
            }
            if (pick(4) == 0)
                assoc2 = pick(2) ? c->militia : c->rebels[pick(3)];
            fat = pick(10) < 6 ? 0 : pick(12);
            break;
        case 1:
            if (pick(3) == 0) {
                actor1 = c->rebels[pick(3)];
                inter1 = 2;
            }
            if (pick(4) == 0) {
                snprintf(actor2buf, sizeof actor2buf, "Civilians (%s)", c->name);
                actor2 = actor2buf;
                inter2 = 7;
                civ = "Civilian targeting";
            }
            fat = pick(10) < 7 ? 0 : pick(8);
            break;
        case 2:
            actor1 = pick(2) ? c->militia : c->rebels[pick(3)];
            inter1 = 3;
            snprintf(actor2buf, sizeof actor2buf, "Civilians (%s)", c->name);
            actor2 = actor2buf;
            inter2 = 7;
            civ = "Civilian targeting";
            fat = pick(10) < 4 ? 0 : 1 + pick(4);
            break;
        case 3:
            snprintf(actor1buf, sizeof actor1buf, "Protesters (%s)", c->name);
            actor1 = actor1buf;
            inter1 = 6;
            if (e->sub[0] != 'P' || e->sub[13] == 'w') {
                snprintf(actor2buf, sizeof actor2buf, "Police Forces of %s", c->name);
                actor2 = actor2buf;
                inter2 = 1;
            }
            if (pick(3) == 0)
                assoc1 = "Labor Group (International); Women (International)";
            break;
        case 4:
            snprintf(actor1buf, sizeof actor1buf, "Rioters (%s)", c->name);
            actor1 = actor1buf;
            inter1 = 5;
            if (pick(2)) {
                snprintf(actor2buf, sizeof actor2buf, "Civilians (%s)", c->name);
                actor2 = actor2buf;
                inter2 = 7;
            }
            fat = pick(10) ? 0 : 1;
            break;
        default:
            if (pick(2)) {
                actor1 = c->rebels[pick(3)];
                inter1 = 2;
            }
            break;
        }
        int interaction = inter2 ? (inter1 < inter2 ? inter1 * 10 + inter2 : inter2 * 10 + inter1)
                                 : inter1 * 10;
        const char *src = sources[pick(sizeof sources / sizeof sources[0])];
        const char *scale = scales[pick(sizeof scales / sizeof scales[0])];
        char notes[640];
        const char *when = tp == 1 ? "On" : tp == 2 ? "Around" : "During";
        char whenday[48];
        if (tp == 3)
            snprintf(whenday, sizeof whenday, "%s %04d", months[tm.tm_mon], tm.tm_year + 1900);
        else
            snprintf(whenday, sizeof whenday, "%d %s %04d", tm.tm_mday, months[tm.tm_mon],
                     tm.tm_year + 1900);
        switch (e->kind) {
        case 1:
            snprintf(notes, sizeof notes,
                     "%s %s%s, %s %s in %s (%s, %s). %s%s",
                     when, whenday, tp == 2 ? " (week of)" : "", actor1,
                     e->sub[0] == 'A' ? (pick(2) ? "drone strike hit a house" : "air strikes hit positions")
                                      : e->sub[0] == 'S' ? "shelled residential areas" : "an explosive device detonated",
                     locname, a->name, c->name,
                     fat ? "" : "No fatalities reported.",
                     fat ? "Casualties were reported by \"local sources\", numbers unverified." : "");
            break;
        case 3:
        case 4:
            snprintf(notes, sizeof notes,
                     "%s %s, %s demonstrated in %s (%s) against %s. [size=%s]",
                     when, whenday, actor1, locname, a->name,
                     pick(2) ? "the rising cost of living" : "the detention of activists",
                     pick(3) ? "no report" : "around 200");
            break;
        default:
            snprintf(notes, sizeof notes,
                     "%s %s%s, %s: %s%s%s in %s, %s. %u fatalities reported.",
                     when, whenday, tp == 2 ? " (week of)" : "", e->sub, actor1,
                     *actor2 ? " and " : "", *actor2 ? actor2 : "", locname, a->name, fat);
            break;
        }
        long event_no = ++serial[ci];
        char inter2s[8] = "";
        if (inter2)
            snprintf(inter2s, sizeof inter2s, "%d", inter2);
        /* the CSV row: fields are quoted only when they need it, as in ACLED's exports */
        char idbuf[32], num[8][32];
        snprintf(idbuf, sizeof idbuf, "%s%ld", c->iso3, event_no);
        snprintf(num[0], 32, "%d", tm.tm_year + 1900);
        snprintf(num[1], 32, "%u", tp);
        snprintf(num[2], 32, "%d", inter1);
        snprintf(num[3], 32, "%d", interaction);
        snprintf(num[4], 32, "%d", c->iso);
        snprintf(num[5], 32, "%.4f", lat);
        snprintf(num[6], 32, "%.4f", lon);
        snprintf(num[7], 32, "%u", gp);
        char fatbuf[16], tsbuf[24];
        snprintf(fatbuf, sizeof fatbuf, "%u", fat);
        snprintf(tsbuf, sizeof tsbuf, "%ld", 1700000000L + i / 3);
        const char *f[31] = {idbuf, date, num[0], num[1], e->disorder, e->type, e->sub, actor1,
                             assoc1, num[2], actor2, assoc2, inter2s, num[3], civ, num[4],
                             c->region, c->name, a->name, "", "", locname, num[5], num[6], num[7],
                             src, scale, notes, fatbuf, pick(6) ? "" : "local administrators",
                             tsbuf};
        for (int k = 0; k < 31; k++) {
            if (k)
                putchar(',');
            put_field(f[k]);
        }
        putchar('\n');
    }
    return fflush(stdout) != 0;
}

/* Query paths: a ~55 km box around one of the admin1 centres and a 30-day window. */
static int queries(long n, uint64_t seed)
{
    rng_state = seed ^ 0x5151;
    for (long i = 0; i < n; i++) {
        const struct country *c = &countries[weighted_country()];
        const struct admin1 *a = &c->a1[pick(5)];
        double cl = a->lat + (unif() - 0.5) * 0.3, co = a->lon + (unif() - 0.5) * 0.3;
        long day = DAY0 + (long)pick(NDAYS - 30);
        time_t t0 = (time_t)day * 86400, t1 = t0 + 30 * 86400;
        struct tm s, u;
        gmtime_r(&t0, &s);
        gmtime_r(&t1, &u);
        printf("/api/v1/reports?bbox=%.3f,%.3f,%.3f,%.3f&since=%04d-%02d-%02dT00:00:00Z"
               "&until=%04d-%02d-%02dT00:00:00Z\n",
               co - 0.25, cl - 0.25, co + 0.25, cl + 0.25, s.tm_year + 1900, s.tm_mon + 1,
               s.tm_mday, u.tm_year + 1900, u.tm_mon + 1, u.tm_mday);
    }
    return fflush(stdout) != 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The ceiling: records and fields of an RFC 4180 file, nothing else. */
static int parse(const char *path)
{
    double t0 = now_s();
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    static char buf[1 << 20];
    long records = 0, fields = 0, bytes = 0;
    int quoted = 0, prev_quote = 0, any = 0;
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        bytes += (long)got;
        for (size_t i = 0; i < got; i++) {
            char ch = buf[i];
            if (quoted) {
                if (ch == '"') {
                    quoted = 0;
                    prev_quote = 1;
                }
                continue;
            }
            if (ch == '"') {
                quoted = 1; /* a doubled quote re-enters the quoted state */
                prev_quote = 0;
                any = 1;
                continue;
            }
            prev_quote = 0;
            if (ch == ',') {
                fields++;
                any = 1;
            } else if (ch == '\n') {
                fields++;
                records++;
                any = 0;
            } else if (ch != '\r') {
                any = 1;
            }
        }
    }
    (void)prev_quote;
    if (any) {
        fields++;
        records++;
    }
    fclose(f);
    double secs = now_s() - t0;
    long rows = records > 0 ? records - 1 : 0;
    printf("rows=%ld fields=%ld bytes=%ld seconds=%.3f rows_per_s=%.1f\n", rows, fields, bytes,
           secs, (double)rows / (secs > 0 ? secs : 1e-9));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "rows") == 0)
        return rows(strtol(argv[2], NULL, 10), argc > 3 ? strtoull(argv[3], NULL, 10) : 1);
    if (argc >= 3 && strcmp(argv[1], "queries") == 0)
        return queries(strtol(argv[2], NULL, 10), argc > 3 ? strtoull(argv[3], NULL, 10) : 1);
    if (argc == 3 && strcmp(argv[1], "parse") == 0)
        return parse(argv[2]);
    fprintf(stderr, "usage: acledgen rows N [SEED] | queries N [SEED] | parse FILE\n");
    return 2;
}
