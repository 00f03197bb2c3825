//! The rules classifier end to end: the dev set of `shared/datasets/live-comments`
//! with floors, comments written for these tests (not taken from the dev set) for each
//! phenomenon of the labelling rules, a second shop with a different catalog, and
//! properties on arbitrary input.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use meta_commerce::Catalog;
use meta_commerce::classify::eval::{evaluate, evaluate_rules, parse_jsonl, same_items};
use meta_commerce::classify::{
    Classification, Intent, IntentClassifier, ItemRequest, Lang, RulesClassifier,
};
use proptest::prelude::*;

/// The demo catalog (`shared/datasets/live-comments/catalog.csv`), embedded so these
/// tests do not depend on the dataset folder.
const DEMO_CATALOG: &str = "sku,name,aliases,price,currency,stock
POL-ROJ-M,Polera roja talla M,polera roja M|remera roja M|playera roja M|camiseta roja M|red t-shirt M|red tee M|camiseta vermelha M|#1,12990,CLP,8
LAB-GLOS-02,Gloss labial rosa tono 02,gloss 02|gloss rosa|brillo labial rosa|lip gloss 02|pink lip gloss|gloss labial rosa|#2,149,MXN,15
POL-ROJ-L,Polera roja talla L,polera roja L|remera roja L|playera roja L|camiseta roja L|red t-shirt L|red tee L|camiseta vermelha L|camiseta vermelha G|#3,12990,CLP,5
POL-AZU-L,Polera azul talla L,polera azul L|remera azul L|playera azul L|camiseta azul L|blue t-shirt L|blue tee L|camiseta azul G|polera azul|remera azul|blue tee|#4,12990,CLP,6
LAB-MATE-05,Labial mate rojo tono 05,labial mate 05|labial rojo|lápiz labial rojo|pintalabios rojo|matte lipstick 05|red lipstick|batom matte 05|batom vermelho|#5,189,MXN,25
POL-BLA-S,Polera blanca talla S,polera blanca S|remera blanca S|playera blanca S|camiseta blanca S|white t-shirt S|white tee S|camiseta branca S|camiseta branca P|polera blanca|remera blanca|white tee|camiseta branca|#6,11990,CLP,10
VES-FLO-S,Vestido floreado talla S,vestido floreado S|vestido de flores S|vestido estampado S|floral dress S|flower dress S|vestido florido P|vestido floral S|vestido floreado|vestido de flores|floral dress|vestido florido|#7,24990,CLP,4
SUD-GRI-M,Polerón gris talla M,polerón gris M|polerón plomo M|buzo gris M|sudadera gris M|hoodie gris M|gray hoodie M|grey hoodie M|moletom cinza M|polerón gris|buzo gris|sudadera gris|gray hoodie|grey hoodie|moletom cinza|#8,21990,CLP,7
SUD-NEG-L,Polerón negro talla L,polerón negro L|buzo negro L|sudadera negra L|hoodie negro L|black hoodie L|moletom preto L|moletom preto G|polerón negro|buzo negro|sudadera negra|black hoodie|moletom preto|#9,21990,CLP,3
VES-NEG-M,Vestido negro talla M,vestido negro M|black dress M|little black dress M|vestido preto M|pretinho básico|vestido negro|black dress|little black dress|vestido preto|#10,27990,CLP,5
CHA-CUE-M,Chaqueta de cuero negra talla M,chaqueta de cuero M|chaqueta de cuero negra M|campera de cuero M|chamarra de piel M|cazadora de cuero M|leather jacket M|jaqueta de couro M|chaqueta de cuero|campera de cuero|chamarra de piel|leather jacket|jaqueta de couro|#11,49990,CLP,2
LAB-MATE-12,Labial mate nude tono 12,labial mate 12|labial nude|lápiz labial nude|pintalabios nude|matte lipstick 12|nude lipstick|batom matte 12|batom nude|#12,189,MXN,20
CAL-NEG-UN,Calcetines negros (par) talla única,calcetines negros|calcetas negras|medias negras|black socks|meias pretas|meia preta|#13,3990,CLP,30
ZAP-NEG-38,Zapatillas negras talla 38,zapatillas negras 38|tenis negros 38|deportivas negras 38|zapas negras 38|black sneakers 38|tênis preto 38|#14,39990,CLP,4
ZAP-NEG-39,Zapatillas negras talla 39,zapatillas negras 39|tenis negros 39|deportivas negras 39|zapas negras 39|black sneakers 39|tênis preto 39|#15,39990,CLP,0
ZAP-BLA-37,Zapatillas blancas talla 37,zapatillas blancas 37|tenis blancos 37|deportivas blancas 37|zapas blancas 37|white sneakers 37|tênis branco 37|zapatillas blancas|tenis blancos|white sneakers|tênis branco|#16,39990,CLP,3
BOT-CAF-38,Botines café talla 38,botines café 38|botines marrones 38|botas cafés 38|botas marrones 38|brown ankle boots 38|brown boots 38|bota marrom 38|botinha marrom 38|botines café|botines|brown boots|ankle boots|bota marrom|#17,44990,CLP,2
SAN-DOR-37,Sandalias doradas talla 37,sandalias doradas 37|gold sandals 37|sandália dourada 37|rasteirinha dourada 37|sandalias doradas|gold sandals|sandália dourada|rasteirinha dourada|#18,19990,CLP,5
BAS-LIQ-MED,Base líquida tono medio,base líquida tono medio|base tono medio|maquillaje líquido medio|liquid foundation medium|foundation medium|base líquida média|base tom médio|#19,329,MXN,12
MAS-NEG-01,Máscara de pestañas negra,máscara de pestañas negra|rímel negro|rímel|black mascara|mascara|máscara de cílios preta|rímel preto|#20,219,MXN,18
PAL-SOM-NUD,Paleta de sombras nude,paleta de sombras nude|paleta de sombras|paleta nude|sombras nude|nude eyeshadow palette|eyeshadow palette|#21,459,MXN,6
PER-VAI-50,Perfume de vainilla 50 ml,perfume de vainilla 50 ml|perfume de vainilla|colonia de vainilla|vanilla perfume 50ml|vanilla perfume|perfume de baunilha|#22,599,MXN,9
ARO-DOR-01,Aros dorados de argolla,aros dorados|aretes dorados|pendientes dorados|argollas doradas|gold hoop earrings|gold hoops|brincos dourados|argolas douradas|#23,159,MXN,14
COL-PLA-01,Collar de plata con corazón,collar de plata corazón|collar de corazón|cadena de plata con corazón|silver heart necklace|heart necklace|colar de prata|colar de coração|collar de plata|silver necklace|#24,399,MXN,7
CAR-NEG-01,Cartera negra,cartera negra|bolso negro|bolsa negra|black purse|black handbag|bolsa preta|#25,549,MXN,4
LEN-SOL-CAR,Lentes de sol carey,lentes de sol carey|gafas de sol carey|anteojos de sol carey|lentes carey|tortoiseshell sunglasses|sunglasses|óculos de sol|lentes de sol|gafas de sol|#26,279,MXN,10
GOR-LAN-BEI,Gorro de lana beige,gorro de lana beige|gorro beige|gorrito de lana|beige beanie|beanie|touca de lã bege|touca bege|#27,199,MXN,11
JEA-AZU-28,Jeans azul talla 28,jeans azul 28|jean azul 28|pantalón de mezclilla azul 28|vaqueros azules 28|blue jeans 28|calça jeans azul 28|jeans azul|blue jeans|calça jeans azul|#28,29990,CLP,6
CAL-BLA-UN,Calcetines blancos (par) talla única,calcetines blancos|calcetas blancas|medias blancas|white socks|meias brancas|meia branca|#29,3990,CLP,25
JEA-NEG-30,Jeans negro talla 30,jeans negro 30|jean negro 30|pantalón de mezclilla negro 30|vaqueros negros 30|black jeans 30|calça jeans preta 30|jeans negro|black jeans|calça jeans preta|#30,29990,CLP,5
";

/// Another shop: other products, SKU shapes (`MOCH-AZU-01`), lots and sizes.
const SECOND_CATALOG: &str = "sku,name,aliases,price,currency,stock
BLU-BLA-S,Blusa blanca talla S,blusa blanca S|white blouse S|blusa branca P|#1,15990,CLP,5
BLU-BLA-M,Blusa blanca talla M,blusa blanca M|white blouse M|blusa branca M|#2,15990,CLP,5
FAL-NEG-M,Falda negra talla M,falda negra M|pollera negra M|black skirt M|saia preta M|falda negra|black skirt|saia preta|#3,18990,CLP,3
SHO-MEZ-32,Short de mezclilla talla 32,short de mezclilla 32|short jean 32|denim shorts 32|short jeans 32|shorts de mezclilla|denim shorts|#4,14990,CLP,6
TOP-ROS-S,Top rosado talla S,top rosado S|top rosa S|pink top S|cropped rosa P|top rosado|pink top|cropped rosa|#5,9990,CLP,8
ABR-VER-L,Abrigo verde talla L,abrigo verde L|tapado verde L|green coat L|casaco verde G|abrigo verde|green coat|casaco verde|#6,59990,CLP,2
CRE-HID-50,Crema hidratante 50 ml,crema hidratante|crema facial|moisturizer|face cream|creme hidratante|hidratante|#7,259,MXN,20
DEL-NEG-01,Delineador negro,delineador negro|delineador|eyeliner|black eyeliner|delineador preto|#8,149,MXN,30
RUB-COR-03,Rubor coral tono 03,rubor coral 03|rubor coral|blush coral|coral blush|blush 03|#9,199,MXN,12
ESM-ROJ-10,Esmalte rojo tono 10,esmalte rojo|esmalte de uñas rojo|red nail polish|esmalte vermelho|#10,99,MXN,25
ESM-FUC-11,Esmalte fucsia tono 11,esmalte fucsia|fuchsia nail polish|esmalte pink|#11,99,MXN,25
MOC-CAF-39,Mocasines café talla 39,mocasines café 39|mocasines marrones 39|brown loafers 39|mocassim marrom 39|#12,45990,CLP,3
MOC-CAF-40,Mocasines café talla 40,mocasines café 40|mocasines marrones 40|brown loafers 40|mocassim marrom 40|#13,45990,CLP,2
PUL-PLA-01,Pulsera de plata,pulsera de plata|pulsera plateada|silver bracelet|pulseira de prata|esclava de plata|#14,299,MXN,10
MOCH-AZU-01,Mochila azul,mochila azul|blue backpack|mochila|backpack|#15,699,MXN,4
BUF-GRI-01,Bufanda gris,bufanda gris|grey scarf|gray scarf|cachecol cinza|bufanda|scarf|cachecol|#16,249,MXN,9
";

fn demo() -> Catalog {
    Catalog::from_csv(DEMO_CATALOG.as_bytes()).unwrap()
}

fn second() -> Catalog {
    Catalog::from_csv(SECOND_CATALOG.as_bytes()).unwrap()
}

/// One classifier and both catalogs, shared by the property tests (the compiled index
/// is cached per catalog, as in production).
fn shared() -> &'static (RulesClassifier, Catalog, Catalog) {
    static SHARED: OnceLock<(RulesClassifier, Catalog, Catalog)> = OnceLock::new();
    SHARED.get_or_init(|| (RulesClassifier::new(), demo(), second()))
}

/// (comment, labelled intent, labelled items)
type Case = (&'static str, &'static str, &'static [(&'static str, u32)]);

/// Classifies every case and lists the ones that differ from their label.
fn failures(catalog: &Catalog, cases: &[Case]) -> Vec<String> {
    let rules = RulesClassifier::new();
    let mut out = Vec::new();
    for &(text, intent, items) in cases {
        let want = Intent::parse(intent).unwrap();
        let want_items: Vec<ItemRequest> =
            items.iter().map(|&(s, q)| ItemRequest::new(s, q)).collect();
        let got = rules.classify_sync(text, catalog);
        let items_ok =
            matches!(want, Intent::Question | Intent::Other) || same_items(&got.items, &want_items);
        if got.intent != want || !items_ok {
            out.push(format!(
                "{text:?}: want {want} {want_items:?}, got {} {:?} ({:.2}) {:?}",
                got.intent, got.items, got.confidence, got.evidence
            ));
        }
    }
    out
}

fn check(catalog: &Catalog, cases: &[Case]) {
    let bad = failures(catalog, cases);
    assert!(
        bad.is_empty(),
        "{} of {} wrong:\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
}

fn classify(text: &str) -> Classification {
    RulesClassifier::new().classify_sync(text, &demo())
}

// ---------------------------------------------------------------------------- dev set

fn dataset_dir() -> PathBuf {
    std::env::var_os("META_LIVE_COMMENTS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/live-comments"),
        PathBuf::from,
    )
}

#[test]
fn dev_set_meets_its_floors() {
    let dir = dataset_dir();
    // The dev set lives beside the repository (`../shared`), not in it: a checkout
    // without it skips this one test (the phenomenon tests below still run), unless
    // META_LIVE_COMMENTS_DIR names a folder explicitly.
    if std::env::var_os("META_LIVE_COMMENTS_DIR").is_none() && !dir.join("dev.jsonl").exists() {
        println!(
            "skipped: ../shared/datasets/live-comments/dev.jsonl not found (set META_LIVE_COMMENTS_DIR)"
        );
        return;
    }
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
            panic!(
                "{name} not found in {} (set META_LIVE_COMMENTS_DIR): {e}",
                dir.display()
            )
        })
    };
    let catalog = Catalog::from_csv(read("catalog.csv").as_bytes()).unwrap();
    let labels = parse_jsonl(&read("dev.jsonl")).unwrap();
    assert_eq!(labels.len(), 150);
    let report = evaluate_rules(&RulesClassifier::new(), &catalog, &labels);
    println!("{report}");
    // Floors a little under what the classifier reaches (1.0 everywhere when written),
    // so a regression fails while a single new miss in a small group does not.
    let floors = [
        ("es", 0.95, 0.95, 0.93),
        ("en", 0.95, 0.94, 0.93),
        ("pt", 0.95, 0.93, 0.92),
        ("mixed", 0.85, 0.85, 0.75),
        ("all", 0.97, 0.97, 0.96),
    ];
    for (lang, f1, acc, exact) in floors {
        let s = report.lang(lang).unwrap();
        assert!(
            s.f1 >= f1,
            "{lang}: purchase F1 {:.3} < {f1}\n{report}",
            s.f1
        );
        assert!(
            s.intent_accuracy >= acc,
            "{lang}: intent accuracy {:.3} < {acc}\n{report}",
            s.intent_accuracy
        );
        assert!(
            s.exact_match >= exact,
            "{lang}: item exact match {:.3} < {exact}\n{report}",
            s.exact_match
        );
    }
}

// ------------------------------------------------------------------- own comments
const CORRECTIONS: &[Case] = &[
    (
        "quiero la polera roja L, no perdón, la M",
        "purchase",
        &[("POL-ROJ-M", 1)],
    ),
    ("la 4 no, mejor la 6", "purchase", &[("POL-BLA-S", 1)]),
    (
        "quiero el vestido negro... no espera, el floreado",
        "purchase",
        &[("VES-FLO-S", 1)],
    ),
    (
        "no quiero el jean negro, el azul sí",
        "purchase",
        &[("JEA-AZU-28", 1)],
    ),
    (
        "I want the red tee L not the M",
        "purchase",
        &[("POL-ROJ-L", 1)],
    ),
    ("no la 7 sino la 10", "purchase", &[("VES-NEG-M", 1)]),
    ("not #3, #4 please", "purchase", &[("POL-AZU-L", 1)]),
    ("quero o 5, não, o 12", "purchase", &[("LAB-MATE-12", 1)]),
    (
        "cambia la 4 por la 6 porfa",
        "purchase",
        &[("POL-BLA-S", 1)],
    ),
    ("swap my #2 for #12", "purchase", &[("LAB-MATE-12", 1)]),
    (
        "me llevo la 7 aunque no me quede 😂",
        "purchase",
        &[("VES-FLO-S", 1)],
    ),
    (
        "me equivoqué, quería la 3 no la 1",
        "purchase",
        &[("POL-ROJ-L", 1)],
    ),
    (
        "quiero la 1... ay no, la 3",
        "purchase",
        &[("POL-ROJ-L", 1)],
    ),
    ("#4, sorry I meant #6", "purchase", &[("POL-BLA-S", 1)]),
    (
        "no me gustan las sandalias, prefiero las zapatillas blancas",
        "purchase",
        &[("ZAP-BLA-37", 1)],
    ),
];

const SEVERAL: &[Case] = &[
    (
        "me llevo el labial rojo y el gloss",
        "purchase",
        &[("LAB-MATE-05", 1), ("LAB-GLOS-02", 1)],
    ),
    (
        "quiero la 2 y la 5",
        "purchase",
        &[("LAB-GLOS-02", 1), ("LAB-MATE-05", 1)],
    ),
    (
        "la 14 y la 16 para mí",
        "purchase",
        &[("ZAP-NEG-38", 1), ("ZAP-BLA-37", 1)],
    ),
    (
        "I'll take the blue tee and the white tee",
        "purchase",
        &[("POL-AZU-L", 1), ("POL-BLA-S", 1)],
    ),
    (
        "quero o tênis preto 38 e a meia branca",
        "purchase",
        &[("ZAP-NEG-38", 1), ("CAL-BLA-UN", 1)],
    ),
    (
        "eu quero o colar de prata e os brincos",
        "purchase",
        &[("COL-PLA-01", 1), ("ARO-DOR-01", 1)],
    ),
    (
        "me llevo la 2 y 3 de la 13",
        "purchase",
        &[("LAB-GLOS-02", 1), ("CAL-NEG-UN", 3)],
    ),
    (
        "I'll take the red lipstick and two of the nude one",
        "purchase",
        &[("LAB-MATE-05", 1), ("LAB-MATE-12", 2)],
    ),
    (
        "quiero el jean azul 28 y el negro 30",
        "purchase",
        &[("JEA-AZU-28", 1), ("JEA-NEG-30", 1)],
    ),
    (
        "quiero la 7, la 9 y la 11",
        "purchase",
        &[("VES-FLO-S", 1), ("SUD-NEG-L", 1), ("CHA-CUE-M", 1)],
    ),
    (
        "#1 #3 #5",
        "purchase",
        &[("POL-ROJ-M", 1), ("POL-ROJ-L", 1), ("LAB-MATE-05", 1)],
    ),
    (
        "quiero 1 de la 3 y 2 de la 5",
        "purchase",
        &[("POL-ROJ-L", 1), ("LAB-MATE-05", 2)],
    ),
    (
        "vou levar o 28 e o 30",
        "purchase",
        &[("JEA-AZU-28", 1), ("JEA-NEG-30", 1)],
    ),
    (
        "quiero los aros dorados y la cartera negra, porfa",
        "purchase",
        &[("ARO-DOR-01", 1), ("CAR-NEG-01", 1)],
    ),
    (
        "separa la 2, la 5 y la 12 para mi",
        "purchase",
        &[("LAB-GLOS-02", 1), ("LAB-MATE-05", 1), ("LAB-MATE-12", 1)],
    ),
    (
        "I'll take #13 x2 and #29 x1",
        "purchase",
        &[("CAL-NEG-UN", 2), ("CAL-BLA-UN", 1)],
    ),
    (
        "2 calcetines blancos y 1 negro",
        "purchase",
        &[("CAL-BLA-UN", 2), ("CAL-NEG-UN", 1)],
    ),
    (
        "one black purse and one red lipstick",
        "purchase",
        &[("CAR-NEG-01", 1), ("LAB-MATE-05", 1)],
    ),
    (
        "la polera roja en L y la blanca en S",
        "purchase",
        &[("POL-ROJ-L", 1), ("POL-BLA-S", 1)],
    ),
    (
        "me llevo el rímel y la base",
        "purchase",
        &[("MAS-NEG-01", 1), ("BAS-LIQ-MED", 1)],
    ),
    (
        "quiero el vestido negro y el floreado",
        "purchase",
        &[("VES-NEG-M", 1), ("VES-FLO-S", 1)],
    ),
    (
        "quero o moletom preto e o cinza",
        "purchase",
        &[("SUD-NEG-L", 1), ("SUD-GRI-M", 1)],
    ),
];

const QUANTITIES: &[Case] = &[
    (
        "one of the two black socks please",
        "purchase",
        &[("CAL-NEG-UN", 1)],
    ),
    // Spanish "dos" before a Portuguese alias is still two.
    (
        "quiero dos calça jeans azul",
        "purchase",
        &[("JEA-AZU-28", 2)],
    ),
    (
        "quiero 3 calcetas blancas",
        "purchase",
        &[("CAL-BLA-UN", 3)],
    ),
    ("separame dos rímel", "purchase", &[("MAS-NEG-01", 2)]),
    ("pol roj m x 3", "purchase", &[("POL-ROJ-M", 3)]),
    ("dame 2 de la 27", "purchase", &[("GOR-LAN-BEI", 2)]),
    ("JEA-AZU-28 x2", "purchase", &[("JEA-AZU-28", 2)]),
    (
        "me llevo tres gorros de lana",
        "purchase",
        &[("GOR-LAN-BEI", 3)],
    ),
    (
        "dos pintalabios rojos porfa",
        "purchase",
        &[("LAB-MATE-05", 2)],
    ),
    (
        "I want two black handbags",
        "purchase",
        &[("CAR-NEG-01", 2)],
    ),
    ("3 black socks pls", "purchase", &[("CAL-NEG-UN", 3)]),
    (
        "I'll buy the vanilla perfume x2",
        "purchase",
        &[("PER-VAI-50", 2)],
    ),
    (
        "vou levar duas meias pretas",
        "purchase",
        &[("CAL-NEG-UN", 2)],
    ),
    ("quero 2 batom nude", "purchase", &[("LAB-MATE-12", 2)]),
    (
        "quiero cuatro calcetines negros",
        "purchase",
        &[("CAL-NEG-UN", 4)],
    ),
    ("quero três toucas bege", "purchase", &[("GOR-LAN-BEI", 3)]),
    (
        "I'll take a couple of nude lipsticks",
        "purchase",
        &[("LAB-MATE-12", 2)],
    ),
    (
        "me llevo un par de gloss rosa",
        "purchase",
        &[("LAB-GLOS-02", 2)],
    ),
    ("tres de la 2 porfa", "purchase", &[("LAB-GLOS-02", 3)]),
    ("quiero 2x la 5", "purchase", &[("LAB-MATE-05", 2)]),
    (
        "2 unidades del perfume de vainilla",
        "purchase",
        &[("PER-VAI-50", 2)],
    ),
    ("three of #20 please", "purchase", &[("MAS-NEG-01", 3)]),
    (
        "dos pares de zapatillas blancas 37",
        "purchase",
        &[("ZAP-BLA-37", 2)],
    ),
    ("mine: 2x #29", "purchase", &[("CAL-BLA-UN", 2)]),
    ("las 2 poleras rojas M", "purchase", &[("POL-ROJ-M", 2)]),
    ("quero duas do 5", "purchase", &[("LAB-MATE-05", 2)]),
    ("quero 2 unidades do 19", "purchase", &[("BAS-LIQ-MED", 2)]),
    ("separa 2 do 13", "purchase", &[("CAL-NEG-UN", 2)]),
    (
        "me guardas 2 de la 20 porfa?",
        "purchase",
        &[("MAS-NEG-01", 2)],
    ),
    (
        "quiero 5 pares de medias negras",
        "purchase",
        &[("CAL-NEG-UN", 5)],
    ),
    (
        "dame media docena de calcetines blancos",
        "purchase",
        &[("CAL-BLA-UN", 6)],
    ),
    (
        "quiero 10 calcetines negros",
        "purchase",
        &[("CAL-NEG-UN", 10)],
    ),
];

const CLAIMS_BY_LOT_OR_CODE: &[Case] = &[
    ("me llevo la 12", "purchase", &[("LAB-MATE-12", 1)]),
    ("yo la 3!!", "purchase", &[("POL-ROJ-L", 1)]),
    ("LAB-MATE-05 porfa", "purchase", &[("LAB-MATE-05", 1)]),
    ("va la 9", "purchase", &[("SUD-NEG-L", 1)]),
    ("la siete pa mí", "purchase", &[("VES-FLO-S", 1)]),
    ("el 30 para mi porfis", "purchase", &[("JEA-NEG-30", 1)]),
    ("n7 mío", "purchase", &[("VES-FLO-S", 1)]),
    ("me guardas la 26?", "purchase", &[("LEN-SOL-CAR", 1)]),
    ("I'll take #19", "purchase", &[("BAS-LIQ-MED", 1)]),
    ("mine #26 please", "purchase", &[("LEN-SOL-CAR", 1)]),
    ("claim number 13", "purchase", &[("CAL-NEG-UN", 1)]),
    ("mine!! #8", "purchase", &[("SUD-GRI-M", 1)]),
    ("I want number seven", "purchase", &[("VES-FLO-S", 1)]),
    ("quero o 12", "purchase", &[("LAB-MATE-12", 1)]),
    ("separa a 18 pra mim", "purchase", &[("SAN-DOR-37", 1)]),
    ("quero o sete", "purchase", &[("VES-FLO-S", 1)]),
    (
        "pode separar o 21 pra mim?",
        "purchase",
        &[("PAL-SOM-NUD", 1)],
    ),
    ("la 7! la 7! la 7!", "purchase", &[("VES-FLO-S", 1)]),
    ("mía mía mía la 21", "purchase", &[("PAL-SOM-NUD", 1)]),
    (
        "ya pedí la 7, ahora quiero la 8",
        "purchase",
        &[("SUD-GRI-M", 1)],
    ),
    ("la 7 po", "purchase", &[("VES-FLO-S", 1)]),
    ("me la llevo altiro, la 11", "purchase", &[("CHA-CUE-M", 1)]),
    (
        "wena! la 21 pa mi porfis",
        "purchase",
        &[("PAL-SOM-NUD", 1)],
    ),
    ("apártamela porfa, la 17", "purchase", &[("BOT-CAF-38", 1)]),
    (
        "órale, la 23 me la apartas",
        "purchase",
        &[("ARO-DOR-01", 1)],
    ),
    ("me la guardás? la 10", "purchase", &[("VES-NEG-M", 1)]),
    ("dale, reservame la 8", "purchase", &[("SUD-GRI-M", 1)]),
    ("me lo pido! el 22", "purchase", &[("PER-VAI-50", 1)]),
    ("quiero el 7 vale?", "purchase", &[("VES-FLO-S", 1)]),
    ("quero!! o 9", "purchase", &[("SUD-NEG-L", 1)]),
    ("pego o 3", "purchase", &[("POL-ROJ-L", 1)]),
    ("separa aí o 24 pra mim", "purchase", &[("COL-PLA-01", 1)]),
    ("add #25 to my cart", "purchase", &[("CAR-NEG-01", 1)]),
    ("yes please #7", "purchase", &[("VES-FLO-S", 1)]),
    ("qiero la 7", "purchase", &[("VES-FLO-S", 1)]),
    ("me yevo la 5", "purchase", &[("LAB-MATE-05", 1)]),
    (
        "me llevo las zapatilas negras 38",
        "purchase",
        &[("ZAP-NEG-38", 1)],
    ),
    ("la quiero!! la 28", "purchase", &[("JEA-AZU-28", 1)]),
    (
        "ya aparté la 7 antes, ahora la 9 también",
        "purchase",
        &[("SUD-NEG-L", 1)],
    ),
    (
        "aparte de la 7 que ya pedí, quiero la 12",
        "purchase",
        &[("LAB-MATE-12", 1)],
    ),
    ("yo tambien quiero la 4", "purchase", &[("POL-AZU-L", 1)]),
    (
        "quiero la 7 pero mañana pago",
        "purchase",
        &[("VES-FLO-S", 1)],
    ),
    ("cancela la 7 y dame la 8", "purchase", &[("SUD-GRI-M", 1)]),
    ("ME LLEVO LA 7!!!! 🙋‍♀️🙋‍♀️", "purchase", &[("VES-FLO-S", 1)]),
    ("la 6 en S pa mí", "purchase", &[("POL-BLA-S", 1)]),
    (
        "me llevo la 7, envío a Viña",
        "purchase",
        &[("VES-FLO-S", 1)],
    ),
    ("quiero el #07", "purchase", &[("VES-FLO-S", 1)]),
    ("nro. 9 para mí", "purchase", &[("SUD-NEG-L", 1)]),
    ("la número 11 porfa", "purchase", &[("CHA-CUE-M", 1)]),
    ("quiero el item 20", "purchase", &[("MAS-NEG-01", 1)]),
    ("N° 24 mío", "purchase", &[("COL-PLA-01", 1)]),
    ("quiero la 7 y la 7", "purchase", &[("VES-FLO-S", 1)]),
    ("quiero la 6 en talla S", "purchase", &[("POL-BLA-S", 1)]),
    ("I'll grab the #3", "purchase", &[("POL-ROJ-L", 1)]),
    ("put #7 aside for me", "purchase", &[("VES-FLO-S", 1)]),
    ("#7 please!", "purchase", &[("VES-FLO-S", 1)]),
    ("yes! #9", "purchase", &[("SUD-NEG-L", 1)]),
    ("NEED #12", "purchase", &[("LAB-MATE-12", 1)]),
    ("want!! #2", "purchase", &[("LAB-GLOS-02", 1)]),
    ("quero a 6", "purchase", &[("POL-BLA-S", 1)]),
    ("fico com o 9", "purchase", &[("SUD-NEG-L", 1)]),
    ("me separa o 30", "purchase", &[("JEA-NEG-30", 1)]),
    ("manda o 5 pra mim", "purchase", &[("LAB-MATE-05", 1)]),
    ("o 7 é meu", "purchase", &[("VES-FLO-S", 1)]),
    ("quero 1 do 27, obrigada", "purchase", &[("GOR-LAN-BEI", 1)]),
    (
        "la 7 me la apartas hasta mañana?",
        "purchase",
        &[("VES-FLO-S", 1)],
    ),
    (
        "consegue separar o 16 pra mim?",
        "purchase",
        &[("ZAP-BLA-37", 1)],
    ),
    ("holi! me llevo la 23 🥰", "purchase", &[("ARO-DOR-01", 1)]),
    (
        "Hola, buenas noches, quisiera la 26 por favor",
        "purchase",
        &[("LEN-SOL-CAR", 1)],
    ),
    ("para mí la 8, gracias!", "purchase", &[("SUD-GRI-M", 1)]),
    ("la 8 la 8 la 8", "purchase", &[("SUD-GRI-M", 1)]),
    ("quiero the #3 please", "purchase", &[("POL-ROJ-L", 1)]),
    ("mine! la 19 porfa", "purchase", &[("BAS-LIQ-MED", 1)]),
    ("tía me lo pido, el 22", "purchase", &[("PER-VAI-50", 1)]),
    ("vale, me quedo el 24", "purchase", &[("COL-PLA-01", 1)]),
    ("che, la 7 es mía", "purchase", &[("VES-FLO-S", 1)]),
    ("reservámela porfa, la 10", "purchase", &[("VES-NEG-M", 1)]),
    ("¿me lo guardás? el 11", "purchase", &[("CHA-CUE-M", 1)]),
    ("eu!! o 4", "purchase", &[("POL-AZU-L", 1)]),
    ("ja quero o 21", "purchase", &[("PAL-SOM-NUD", 1)]),
    ("quero sim o 3", "purchase", &[("POL-ROJ-L", 1)]),
    ("quero muito o 23", "purchase", &[("ARO-DOR-01", 1)]),
    ("I'd love #5", "purchase", &[("LAB-MATE-05", 1)]),
    ("#5 for me pls", "purchase", &[("LAB-MATE-05", 1)]),
    ("me please #10", "purchase", &[("VES-NEG-M", 1)]),
    ("count me in for #2", "purchase", &[("LAB-GLOS-02", 1)]),
    ("7️⃣ pa mí", "purchase", &[("VES-FLO-S", 1)]),
    ("nº7 mía", "purchase", &[("VES-FLO-S", 1)]),
    ("numero siete para mi", "purchase", &[("VES-FLO-S", 1)]),
    ("@vendedora la 7 para mí", "purchase", &[("VES-FLO-S", 1)]),
    (
        "saludos desde Mendoza, la 14 para mí!",
        "purchase",
        &[("ZAP-NEG-38", 1)],
    ),
    ("love it! I'll take #17", "purchase", &[("BOT-CAF-38", 1)]),
    (
        "qué lindo todo, quiero la 26",
        "purchase",
        &[("LEN-SOL-CAR", 1)],
    ),
];

const CLAIMS_BY_NAME: &[Case] = &[
    (
        "apártame el collar de plata porfa",
        "purchase",
        &[("COL-PLA-01", 1)],
    ),
    (
        "me la llevo, la chaqueta de cuero M",
        "purchase",
        &[("CHA-CUE-M", 1)],
    ),
    ("mía la cartera negra!!", "purchase", &[("CAR-NEG-01", 1)]),
    (
        "quierooo el perfume de vainilla 😍",
        "purchase",
        &[("PER-VAI-50", 1)],
    ),
    ("me apartas el buzo gris?", "purchase", &[("SUD-GRI-M", 1)]),
    ("quiero la polera M roja", "purchase", &[("POL-ROJ-M", 1)]),
    ("quiero la remera blanca", "purchase", &[("POL-BLA-S", 1)]),
    (
        "anotame con las argollas doradas",
        "purchase",
        &[("ARO-DOR-01", 1)],
    ),
    (
        "un par de zapatillas negras 38 porfa",
        "purchase",
        &[("ZAP-NEG-38", 1)],
    ),
    (
        "resérvame la base tono medio si todavía hay",
        "purchase",
        &[("BAS-LIQ-MED", 1)],
    ),
    (
        "me llevo las sandalias doradas si quedan",
        "purchase",
        &[("SAN-DOR-37", 1)],
    ),
    (
        "me quedo con la paleta nude",
        "purchase",
        &[("PAL-SOM-NUD", 1)],
    ),
    (
        "yo quiero los lentes carey 🙋‍♀️",
        "purchase",
        &[("LEN-SOL-CAR", 1)],
    ),
    ("me pido el polerón negro", "purchase", &[("SUD-NEG-L", 1)]),
    (
        "separame la sudadera negra L porfavor",
        "purchase",
        &[("SUD-NEG-L", 1)],
    ),
    (
        "quiero una chamarra de piel",
        "purchase",
        &[("CHA-CUE-M", 1)],
    ),
    (
        "me quedo con los tenis blancos",
        "purchase",
        &[("ZAP-BLA-37", 1)],
    ),
    (
        "quiero el vestido floreadoo talla S",
        "purchase",
        &[("VES-FLO-S", 1)],
    ),
    (
        "apártame una chaketa de cuero",
        "purchase",
        &[("CHA-CUE-M", 1)],
    ),
    (
        "me llevo el pantalon de mezclilla negro 30",
        "purchase",
        &[("JEA-NEG-30", 1)],
    ),
    (
        "quiero las botas cafés 38",
        "purchase",
        &[("BOT-CAF-38", 1)],
    ),
    (
        "can you hold the gold sandals for me?",
        "purchase",
        &[("SAN-DOR-37", 1)],
    ),
    ("sold! white sneakers", "purchase", &[("ZAP-BLA-37", 1)]),
    (
        "I'd like the silver heart necklace",
        "purchase",
        &[("COL-PLA-01", 1)],
    ),
    ("want the grey one in M", "purchase", &[("SUD-GRI-M", 1)]),
    (
        "a pair of black sneakers 39 please",
        "purchase",
        &[("ZAP-NEG-39", 1)],
    ),
    (
        "put me down for the nude eyeshadow palette",
        "purchase",
        &[("PAL-SOM-NUD", 1)],
    ),
    ("could I get the beanie?", "purchase", &[("GOR-LAN-BEI", 1)]),
    (
        "dibs on the leather jacket",
        "purchase",
        &[("CHA-CUE-M", 1)],
    ),
    ("gimme the mascara", "purchase", &[("MAS-NEG-01", 1)]),
    (
        "i'll take the little black dress in M",
        "purchase",
        &[("VES-NEG-M", 1)],
    ),
    ("é minha a bolsa preta!", "purchase", &[("CAR-NEG-01", 1)]),
    ("quero a camiseta branca P", "purchase", &[("POL-BLA-S", 1)]),
    (
        "camiseta vermelha tamanho G pra mim",
        "purchase",
        &[("POL-ROJ-L", 1)],
    ),
    ("quero o moletom cinza", "purchase", &[("SUD-GRI-M", 1)]),
    (
        "eu quero os brincos dourados 😍",
        "purchase",
        &[("ARO-DOR-01", 1)],
    ),
    (
        "reserva pra mim o óculos de sol",
        "purchase",
        &[("LEN-SOL-CAR", 1)],
    ),
    ("me vê o rímel preto", "purchase", &[("MAS-NEG-01", 1)]),
    (
        "vou querer a rasteirinha dourada",
        "purchase",
        &[("SAN-DOR-37", 1)],
    ),
    (
        "fico com a jaqueta de couro",
        "purchase",
        &[("CHA-CUE-M", 1)],
    ),
    ("quero a calça jeans azul", "purchase", &[("JEA-AZU-28", 1)]),
    (
        "quiero the gold hoops please",
        "purchase",
        &[("ARO-DOR-01", 1)],
    ),
    ("sold! la polera blanca", "purchase", &[("POL-BLA-S", 1)]),
    (
        "I want el perfume de vainilla",
        "purchase",
        &[("PER-VAI-50", 1)],
    ),
    ("quero the black purse", "purchase", &[("CAR-NEG-01", 1)]),
    (
        "un par de calcetines blancos porfa",
        "purchase",
        &[("CAL-BLA-UN", 1)],
    ),
    (
        "me lo quedo, el bolso negro",
        "purchase",
        &[("CAR-NEG-01", 1)],
    ),
    ("need the black jeans 30", "purchase", &[("JEA-NEG-30", 1)]),
    ("kiero la polera blanca", "purchase", &[("POL-BLA-S", 1)]),
    ("separame la polra roja M", "purchase", &[("POL-ROJ-M", 1)]),
    (
        "quiero las sandalas doradas",
        "purchase",
        &[("SAN-DOR-37", 1)],
    ),
    (
        "um par de meias brancas pra mim",
        "purchase",
        &[("CAL-BLA-UN", 1)],
    ),
    (
        "I need that floral dress in S",
        "purchase",
        &[("VES-FLO-S", 1)],
    ),
    (
        "quiero una S de la polera blanca",
        "purchase",
        &[("POL-BLA-S", 1)],
    ),
    (
        "quiero la polera roja talla L",
        "purchase",
        &[("POL-ROJ-L", 1)],
    ),
    (
        "omg I need the gold sandals",
        "purchase",
        &[("SAN-DOR-37", 1)],
    ),
    (
        "me llevo la M de la polera roja",
        "purchase",
        &[("POL-ROJ-M", 1)],
    ),
    ("quiero el jean 28", "purchase", &[("JEA-AZU-28", 1)]),
    ("el negro 30 pa mí", "purchase", &[("JEA-NEG-30", 1)]),
    (
        "quero a sandália dourada 37",
        "purchase",
        &[("SAN-DOR-37", 1)],
    ),
    (
        "could you save me a pair of white socks?",
        "purchase",
        &[("CAL-BLA-UN", 1)],
    ),
    (
        "quiero las medias blancas",
        "purchase",
        &[("CAL-BLA-UN", 1)],
    ),
    ("quiero el buzo plomo", "purchase", &[("SUD-GRI-M", 1)]),
    ("las doradas 37 para mí", "purchase", &[("SAN-DOR-37", 1)]),
    (
        "the white ones size 37 please",
        "purchase",
        &[("ZAP-BLA-37", 1)],
    ),
    ("quero a bota marrom", "purchase", &[("BOT-CAF-38", 1)]),
    (
        "quiero los pendientes dorados",
        "purchase",
        &[("ARO-DOR-01", 1)],
    ),
    (
        "me llevo el pintalabios nude",
        "purchase",
        &[("LAB-MATE-12", 1)],
    ),
    (
        "me llevo el maquillaje líquido",
        "purchase",
        &[("BAS-LIQ-MED", 1)],
    ),
    (
        "I'll take the tortoiseshell sunglasses",
        "purchase",
        &[("LEN-SOL-CAR", 1)],
    ),
    ("la cadena de plata pa mí", "purchase", &[("COL-PLA-01", 1)]),
    (
        "buenísimas las zapatillas, me llevo las blancas",
        "purchase",
        &[("ZAP-BLA-37", 1)],
    ),
];

const QUESTIONS: &[Case] = &[
    // Portuguese "dos" is "of the".
    ("qual o preço dos tênis brancos?", "question", &[]),
    ("la 9 es talla L?", "question", &[]),
    ("cuánto sale el gloss?", "question", &[]),
    ("tienen las zapatillas blancas en 38?", "question", &[]),
    ("quiero saber el precio de la 24", "question", &[]),
    ("¿hacen envíos a Monterrey?", "question", &[]),
    ("el perfume es original?", "question", &[]),
    ("de qué tela es el vestido negro?", "question", &[]),
    ("la chaqueta viene en L?", "question", &[]),
    ("precio de la 17 porfa", "question", &[]),
    ("cuanto cuestan los lentes", "question", &[]),
    ("hay talla M en la polera azul?", "question", &[]),
    (
        "what sizes do you have for the black dress?",
        "question",
        &[],
    ),
    ("is #22 still available?", "question", &[]),
    ("how much for the beanie", "question", &[]),
    ("does the necklace come in gold?", "question", &[]),
    ("can you ship to Canada?", "question", &[]),
    ("quanto custa o perfume?", "question", &[]),
    ("tem a bolsa preta ainda?", "question", &[]),
    ("o moletom é quentinho?", "question", &[]),
    ("vocês entregam em Porto Alegre?", "question", &[]),
    ("qual o tamanho do vestido florido?", "question", &[]),
    (
        "si tuvieras la polera blanca en L la compraba",
        "question",
        &[],
    ),
    ("if the hoodie came in XL I'd buy it", "question", &[]),
    ("me llevaría la 7 si viniera en M", "question", &[]),
    ("quiero la 7 pero viene en M?", "question", &[]),
    ("me interesa la 9, cuánto cuesta?", "question", &[]),
    (
        "I want the sunglasses, are they polarized?",
        "question",
        &[],
    ),
    ("quiero la 9 pero en M hay?", "question", &[]),
    ("la 14 todavía está?", "question", &[]),
    ("alguien sabe si el perfume dura?", "question", &[]),
    ("se puede pagar con tarjeta?", "question", &[]),
    ("envían a regiones?", "question", &[]),
    ("talla de la 10?", "question", &[]),
    ("tamanhos?", "question", &[]),
    ("what's the material of the hoodie", "question", &[]),
    ("is the jacket real leather", "question", &[]),
    ("any discount if I buy 2?", "question", &[]),
    ("if there was a red dress I'd buy it", "question", &[]),
    ("se tivesse o moletom em G eu levava", "question", &[]),
    ("me la llevo si me la dejan en 20 lucas", "question", &[]),
    ("la polera azul en M la tienen?", "question", &[]),
    ("do you have the black hoodie in M?", "question", &[]),
    ("essa jaqueta serve em quem veste G?", "question", &[]),
    ("cuál es la diferencia entre la 12 y la 5?", "question", &[]),
    ("cómo compro?", "question", &[]),
    ("how do I claim?", "question", &[]),
    ("como faço pra comprar?", "question", &[]),
    ("me pueden mandar el link de pago?", "question", &[]),
    ("quiero ver la 7 de cerca", "question", &[]),
    ("can you show the back of the jacket?", "question", &[]),
    ("qué talla usa la modelo?", "question", &[]),
    ("me llevo la 7 a 24990 verdad?", "question", &[]),
    ("la 7 tiene bolsillos?", "question", &[]),
    ("el labial es de larga duración?", "question", &[]),
    ("que talla es la 9?", "question", &[]),
    ("cuánto es el envío?", "question", &[]),
    ("me la puedes mostrar?", "question", &[]),
    ("does #5 smudge?", "question", &[]),
    ("will you restock the 39?", "question", &[]),
    ("quando chega?", "question", &[]),
    ("tem parcelamento?", "question", &[]),
    ("ainda tem o 39?", "question", &[]),
    ("posso retirar pessoalmente?", "question", &[]),
    ("how much la 7?", "question", &[]),
    ("la zapatilla blanca en 38 la tienen?", "question", &[]),
    ("hay zapatillas negras 40?", "question", &[]),
    ("do you take Venmo", "question", &[]),
    ("quisiera saber el precio de la 9", "question", &[]),
    ("me gustaría saber si envían a Temuco", "question", &[]),
    ("I want to know if #7 runs small", "question", &[]),
    ("quero saber se tem G", "question", &[]),
    ("tiene descuento si llevo 2?", "question", &[]),
    ("cuánto por las dos?", "question", &[]),
    ("me las llevo las dos si me hacen precio", "question", &[]),
    ("la 7 ya se vendió?", "question", &[]),
    ("la 7 que pedí es talla S?", "question", &[]),
    ("I want to see #7 again", "question", &[]),
];

const CANCELS: &[Case] = &[
    (
        "cancela una de las dos poleras rojas M",
        "cancel",
        &[("POL-ROJ-M", 1)],
    ),
    ("cancela 2 de la 13", "cancel", &[("CAL-NEG-UN", 2)]),
    ("cancela el collar porfa", "cancel", &[("COL-PLA-01", 1)]),
    ("ya no quiero la 25", "cancel", &[("CAR-NEG-01", 1)]),
    ("bájame de la 3 por favor", "cancel", &[("POL-ROJ-L", 1)]),
    ("please cancel #16", "cancel", &[("ZAP-BLA-37", 1)]),
    (
        "remove the beanie from my order",
        "cancel",
        &[("GOR-LAN-BEI", 1)],
    ),
    ("cancelar o batom nude", "cancel", &[("LAB-MATE-12", 1)]),
    ("desisto da bolsa, desculpa", "cancel", &[("CAR-NEG-01", 1)]),
    ("mejor cancelen mi pedido", "cancel", &[]),
    ("I changed my mind, cancel my order", "cancel", &[]),
    (
        "me arrepentí, no quiero el perfume",
        "cancel",
        &[("PER-VAI-50", 1)],
    ),
    ("ya no voy a llevar la 7", "cancel", &[("VES-FLO-S", 1)]),
    (
        "olvida la 9, ya no la quiero",
        "cancel",
        &[("SUD-NEG-L", 1)],
    ),
    (
        "please remove #14 from my order",
        "cancel",
        &[("ZAP-NEG-38", 1)],
    ),
    ("sácame la 3 porfa", "cancel", &[("POL-ROJ-L", 1)]),
    ("tira o 8 do meu pedido", "cancel", &[("SUD-GRI-M", 1)]),
    ("no voy a poder pagar, cancelen mi pedido", "cancel", &[]),
    ("borrame de la lista de la 9", "cancel", &[("SUD-NEG-L", 1)]),
    (
        "sorry, I can't afford #11 anymore, please cancel",
        "cancel",
        &[("CHA-CUE-M", 1)],
    ),
    ("não vou mais querer o 18", "cancel", &[("SAN-DOR-37", 1)]),
    ("desisti do 5", "cancel", &[("LAB-MATE-05", 1)]),
    ("cancel la 3 porfa", "cancel", &[("POL-ROJ-L", 1)]),
    ("no quiero la 7", "cancel", &[("VES-FLO-S", 1)]),
    (
        "al final no quiero el perfume",
        "cancel",
        &[("PER-VAI-50", 1)],
    ),
    (
        "actually I don't want #9 anymore",
        "cancel",
        &[("SUD-NEG-L", 1)],
    ),
    ("não quero mais o 8", "cancel", &[("SUD-GRI-M", 1)]),
];

const OTHER: &[Case] = &[
    // Claim words without a purchase.
    ("me quedo con las ganas 😭", "other", &[]),
    ("quiero llorar la 7 se agotó", "other", &[]),
    ("I want to cry, everything is so pretty", "other", &[]),
    ("me llevo bien con la vendedora jaja", "other", &[]),
    ("take care everyone", "other", &[]),
    ("I'll take a look", "other", &[]),
    ("qué lindo el collar 😍", "other", &[]),
    ("amo essa paleta", "other", &[]),
    ("@Caro mira la 7", "other", &[]),
    ("@Julia olha esse tênis", "other", &[]),
    ("ya compré la 7 la semana pasada, me encanta", "other", &[]),
    ("me llegaron los aros, son preciosos", "other", &[]),
    ("I bought the perfume last live, love it", "other", &[]),
    ("comprei o batom na live passada e amei", "other", &[]),
    (
        "si me gano la lotería me llevo toda la tienda jaja",
        "other",
        &[],
    ),
    ("if I were rich I'd take everything lol", "other", &[]),
    (
        "sí claro, y con qué plata me llevo el perfume 🙄",
        "other",
        &[],
    ),
    ("oh sure, I'll take ten leather jackets 🙄", "other", &[]),
    (
        "SIGUE MI CUENTA Y GANA SEGUIDORES www.ganaseguidores.com",
        "other",
        &[],
    ),
    ("buenas noches desde Santiago", "other", &[]),
    ("que vendedora tan simpática", "other", &[]),
    ("wow that dress is stunning", "other", &[]),
    ("hoje não posso comprar nada 😭", "other", &[]),
    ("la próxima me llevo la 7 jaja", "other", &[]),
    ("quiero todo 😍😍", "other", &[]),
    ("jajaja me muero", "other", &[]),
    ("great stream, thanks!", "other", &[]),
    ("the necklace is so pretty omg", "other", &[]),
    ("volví a ver la transmisión", "other", &[]),
    ("jajaja la 7 es igual a la mía", "other", &[]),
    ("tengo la 7 y me encanta", "other", &[]),
    ("mi mamá tiene ese vestido", "other", &[]),
    ("ojalá me alcanzara para la 11 😭", "other", &[]),
    ("cuando sea rica me llevo todo", "other", &[]),
    ("no puedo comprar hoy 😢", "other", &[]),
    ("me encanta la 5!", "other", &[]),
    ("esa chaqueta está increíble", "other", &[]),
    ("la 23 es preciosa", "other", &[]),
    ("wow #11 😍", "other", &[]),
    ("👏👏👏", "other", &[]),
    ("holaaa", "other", &[]),
    ("@Fran vamos a comprar juntas?", "other", &[]),
    ("me compré la 7 la otra vez y es buenísima", "other", &[]),
    ("I ordered the #5 last week and it's great", "other", &[]),
    ("já comprei a 23 e amei", "other", &[]),
    ("Visita mi perfil para ganar dinero 💰💰", "other", &[]),
    ("Earn $500/day working from home DM me", "other", &[]),
    ("quiero el perfume pero no tengo plata 😭", "other", &[]),
    ("ya pagué la 7, les mando el comprobante", "other", &[]),
    ("paid for #7 already!", "other", &[]),
    ("la modelo es preciosa", "other", &[]),
    ("no me gusta la 7", "other", &[]),
    ("not a fan of the red one", "other", &[]),
    ("yo no quiero nada hoy jaja", "other", &[]),
    ("mañana vuelvo por la 7", "other", &[]),
    ("voy a pensar si me llevo la 9", "other", &[]),
    ("maybe the #7 later", "other", &[]),
    ("quiero la 3... o la 1? no sé", "other", &[]),
    ("jajaja mi esposo me mata", "other", &[]),
    ("ya no me cabe nada en el closet 😂", "other", &[]),
    ("que bonita la 21", "other", &[]),
    ("saludos a la vendedora", "other", &[]),
    ("😍😍😍", "other", &[]),
    ("first time watching!", "other", &[]),
    ("love your lives", "other", &[]),
    ("Bom dia meninas", "other", &[]),
    ("amei a 5", "other", &[]),
    ("claro, y me llevo el local completo 😂", "other", &[]),
    ("ah sí, 50 mil por un labial, me llevo 3 🙄", "other", &[]),
    (
        "quiero la chaqueta de cuero pero no me alcanza 😭",
        "other",
        &[],
    ),
    ("I wish I could buy the leather jacket", "other", &[]),
    ("ojalá tuviera plata para la 11", "other", &[]),
    ("me encantaría llevarme todo", "other", &[]),
    ("la próxima semana compro la 7", "other", &[]),
    (
        "yo ya tengo el perfume de vainilla, es lo más",
        "other",
        &[],
    ),
    ("me lo regalaron en navidad", "other", &[]),
    ("my sister bought #22 last week", "other", &[]),
    ("me llevo el rubor", "other", &[]),
    ("mmm no sé si la 7 o la 10", "other", &[]),
    ("qué hermoso el vestido floreado", "other", &[]),
    ("amei essa bolsa preta", "other", &[]),
    ("ya se vendió la 7 😭", "other", &[]),
];

const SECOND_SHOP: &[Case] = &[
    (
        "me llevo la blusa blanca M",
        "purchase",
        &[("BLU-BLA-M", 1)],
    ),
    ("quiero la falda negra 😍", "purchase", &[("FAL-NEG-M", 1)]),
    ("la 5 pa mí", "purchase", &[("TOP-ROS-S", 1)]),
    ("dos esmaltes rojos porfa", "purchase", &[("ESM-ROJ-10", 2)]),
    ("I'll take the green coat", "purchase", &[("ABR-VER-L", 1)]),
    ("quero a saia preta", "purchase", &[("FAL-NEG-M", 1)]),
    (
        "separa o cropped rosa pra mim",
        "purchase",
        &[("TOP-ROS-S", 1)],
    ),
    ("mine! black eyeliner x3", "purchase", &[("DEL-NEG-01", 3)]),
    (
        "me llevo los mocasines café 40",
        "purchase",
        &[("MOC-CAF-40", 1)],
    ),
    (
        "un par de mocasines café 39",
        "purchase",
        &[("MOC-CAF-39", 1)],
    ),
    (
        "apártame la pulsera de plata y la bufanda",
        "purchase",
        &[("PUL-PLA-01", 1), ("BUF-GRI-01", 1)],
    ),
    ("blu-bla-s x2", "purchase", &[("BLU-BLA-S", 2)]),
    (
        "la 16 y la 8 pa mi",
        "purchase",
        &[("BUF-GRI-01", 1), ("DEL-NEG-01", 1)],
    ),
    (
        "quiero la 3, no mejor la 5",
        "purchase",
        &[("TOP-ROS-S", 1)],
    ),
    ("cuánto cuesta la mochila?", "question", &[]),
    ("el abrigo viene en M?", "question", &[]),
    ("cancela la crema porfa", "cancel", &[("CRE-HID-50", 1)]),
    ("que linda la falda", "other", &[]),
    ("tienen la blusa en L?", "question", &[]),
    ("quero o creme hidratante", "purchase", &[("CRE-HID-50", 1)]),
    ("I want the coral blush", "purchase", &[("RUB-COR-03", 1)]),
    ("me llevo el rubor 03", "purchase", &[("RUB-COR-03", 1)]),
    ("blue backpack pls", "purchase", &[("MOCH-AZU-01", 1)]),
    (
        "me quedo con el short de mezclilla 32",
        "purchase",
        &[("SHO-MEZ-32", 1)],
    ),
    (
        "el esmalte fucsia para mí",
        "purchase",
        &[("ESM-FUC-11", 1)],
    ),
    ("la blusa M blanca pa mí", "purchase", &[("BLU-BLA-M", 1)]),
    (
        "blusa branca tamanho P pra mim",
        "purchase",
        &[("BLU-BLA-S", 1)],
    ),
    ("ya me llegó la mochila, gracias", "other", &[]),
    ("sold #13", "purchase", &[("MOC-CAF-40", 1)]),
    ("quiero 2 delineadores", "purchase", &[("DEL-NEG-01", 2)]),
    ("me bajo de la bufanda", "cancel", &[("BUF-GRI-01", 1)]),
    ("si fuera rica me llevo los dos abrigos", "other", &[]),
    (
        "reservame el tapado verde L",
        "purchase",
        &[("ABR-VER-L", 1)],
    ),
];

#[test]
fn claims_by_lot_number_and_sku_code() {
    check(&demo(), CLAIMS_BY_LOT_OR_CODE);
}

#[test]
fn claims_by_alias_attributes_and_typos() {
    check(&demo(), CLAIMS_BY_NAME);
}

#[test]
fn quantities_in_digits_words_and_pairs() {
    check(&demo(), QUANTITIES);
}

#[test]
fn several_items_in_one_comment() {
    check(&demo(), SEVERAL);
}

#[test]
fn negation_and_self_correction_keep_the_final_choice() {
    check(&demo(), CORRECTIONS);
}

#[test]
fn questions_including_claim_shaped_ones() {
    check(&demo(), QUESTIONS);
}

#[test]
fn cancels_with_and_without_an_item() {
    check(&demo(), CANCELS);
}

#[test]
fn chat_past_purchases_sarcasm_hypotheticals_and_spam_are_other() {
    check(&demo(), OTHER);
}

#[test]
fn a_different_shop_catalog() {
    check(&second(), SECOND_SHOP);
}

/// Every alias of every product, in claim and cancel phrasings of the three
/// languages, names exactly that product.
#[test]
fn every_alias_is_understood() {
    let templates = [
        ("quiero {}", Intent::Purchase, 1),
        ("me llevo 2 {} porfa", Intent::Purchase, 2),
        ("{} pa mí", Intent::Purchase, 1),
        ("I'll take the {}", Intent::Purchase, 1),
        ("quero o {}", Intent::Purchase, 1),
        ("mine! {}", Intent::Purchase, 1),
        ("cancela {}", Intent::Cancel, 1),
    ];
    let rules = RulesClassifier::new();
    for catalog in [demo(), second()] {
        let mut bad = Vec::new();
        for p in catalog.products() {
            for alias in &p.aliases {
                for (t, intent, qty) in templates {
                    let text = t.replace("{}", alias);
                    let c = rules.classify_sync(&text, &catalog);
                    if c.intent != intent || c.items != [ItemRequest::new(p.sku.clone(), qty)] {
                        bad.push(format!("{text:?} → {} {:?}", c.intent, c.items));
                    }
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

// ------------------------------------------------------------------- behaviour

#[test]
fn an_ambiguous_claim_is_a_low_confidence_purchase_with_suggestions() {
    let c = classify("quiero la polera roja");
    assert_eq!(c.intent, Intent::Purchase);
    assert!(c.confidence < 0.5, "{c:?}");
    assert!(c.items.is_empty());
    assert_eq!(c.suggestions, ["POL-ROJ-M", "POL-ROJ-L"]);
    assert!(
        c.evidence.iter().any(|e| e.starts_with("ambiguous:")),
        "{:?}",
        c.evidence
    );

    // A variant that does not exist: suggest the closest products.
    let c = classify("me llevo la 7 en talla L");
    assert_eq!(c.intent, Intent::Purchase);
    assert!(c.confidence < 0.5 && c.items.is_empty(), "{c:?}");
    assert_eq!(c.suggestions, ["VES-FLO-S"]);
}

#[test]
fn confidence_follows_how_the_item_was_found() {
    let exact = classify("me llevo el jean azul 28");
    let by_lot = classify("me llevo la 28");
    let inferred = classify("me llevo la negra en 38");
    let typo = classify("me llevo el vestdo floreado");
    let ambiguous = classify("me llevo el vestido");
    for c in [&exact, &by_lot, &inferred, &typo] {
        assert_eq!(c.intent, Intent::Purchase, "{c:?}");
        assert_eq!(c.items.len(), 1, "{c:?}");
    }
    assert!(exact.confidence >= 0.9 && by_lot.confidence >= 0.9);
    assert!(inferred.confidence < exact.confidence);
    assert!(typo.confidence < exact.confidence);
    assert!(ambiguous.confidence < 0.5);
    assert!(ambiguous.confidence < typo.confidence);
}

#[test]
fn evidence_names_the_words_that_decided() {
    let c = classify("me llevo dos del jean azul 28");
    assert_eq!(c.items, [ItemRequest::new("JEA-AZU-28", 2)]);
    for e in [
        r#"verb:"me llevo""#,
        r#"alias:"jean azul 28"→JEA-AZU-28"#,
        r#"qty:"dos"=2"#,
    ] {
        assert!(
            c.evidence.iter().any(|x| x == e),
            "{e} not in {:?}",
            c.evidence
        );
    }
    let c = classify("no quiero la polera roja, la azul sí");
    assert_eq!(c.items, [ItemRequest::new("POL-AZU-L", 1)]);
    assert!(
        c.evidence.iter().any(|x| x == r#"negation:"no""#),
        "{:?}",
        c.evidence
    );
    assert!(
        c.evidence.iter().any(|x| x.starts_with("rejected:")),
        "{:?}",
        c.evidence
    );
    let c = classify("ganá plata desde tu casa bit.ly/abc");
    assert_eq!(c.intent, Intent::Other);
    assert!(
        c.evidence.iter().any(|x| x.starts_with("spam:")),
        "{:?}",
        c.evidence
    );
    assert_eq!(c.classifier, "rules");
}

#[test]
fn language_comes_from_keyword_cues() {
    for (text, lang) in [
        ("me llevo la polera roja M porfa", Lang::Es),
        ("I'll take the black dress please", Lang::En),
        ("quero a bolsa preta, obrigada", Lang::Pt),
        ("separa pra mim o 8", Lang::Pt),
        ("cuánto cuesta el envío?", Lang::Es),
        ("how much is shipping?", Lang::En),
        ("😍😍", Lang::Unknown),
    ] {
        assert_eq!(classify(text).lang, lang, "{text}");
    }
}

#[test]
fn each_catalog_gets_its_own_compiled_index() {
    // Same classifier, two shops whose lot #7 differs: answers never leak across.
    let rules = RulesClassifier::new();
    let (a, b) = (demo(), second());
    for _ in 0..3 {
        assert_eq!(
            rules.classify_sync("la 7 pa mí", &a).items,
            [ItemRequest::new("VES-FLO-S", 1)]
        );
        assert_eq!(
            rules.classify_sync("la 7 pa mí", &b).items,
            [ItemRequest::new("CRE-HID-50", 1)]
        );
    }
    // A changed catalog (new alias) is a new fingerprint, so the new alias works at once.
    let changed = DEMO_CATALOG.replace("gloss 02|", "gloss 02|brillito|");
    let changed = Catalog::from_csv(changed.as_bytes()).unwrap();
    assert_ne!(changed.fingerprint(), a.fingerprint());
    assert_eq!(
        rules.classify_sync("quiero el brillito", &changed).items,
        [ItemRequest::new("LAB-GLOS-02", 1)]
    );
}

#[tokio::test]
async fn the_async_port_and_the_async_evaluation_agree_with_the_sync_path() {
    let rules = RulesClassifier::new();
    assert_eq!(rules.name(), "rules");
    let catalog = Arc::new(demo());
    for text in ["me llevo la 7", "cuánto cuesta?", "cancela la 7", "hola"] {
        let a = rules.classify(text, &catalog).await.unwrap();
        assert_eq!(a, rules.classify_sync(text, &catalog));
    }
    let labels = parse_jsonl(concat!(
        r#"{"id":"a","lang":"es","text":"me llevo la 7","intent":"purchase","items":[{"sku":"VES-FLO-S","qty":1}]}"#,
        "\n",
        r#"{"id":"b","lang":"en","text":"how much?","intent":"question","items":[]}"#,
        "\n",
        r#"{"id":"c","lang":"pt","text":"quero o 9","intent":"purchase","items":[{"sku":"SUD-GRI-M","qty":1}]}"#,
    ))
    .unwrap();
    let async_report = evaluate(&rules, &catalog, &labels).await;
    let sync_report = evaluate_rules(&rules, &catalog, &labels);
    assert_eq!(async_report, sync_report);
    // "c" is labelled with the wrong SKU on purpose: a purchase with the wrong items.
    let all = sync_report.all();
    assert_eq!(
        (all.purchase_tp, all.purchase_fp, all.purchase_fn),
        (2, 0, 0)
    );
    assert_eq!((all.items_exact, all.purchases), (1, 2));
    assert!((all.intent_accuracy - 1.0).abs() < f64::EPSILON);
    assert_eq!(sync_report.misclassified.len(), 1);
    assert_eq!(sync_report.misclassified[0].id, "c");
    assert_eq!(
        sync_report.misclassified[0].got_items,
        [ItemRequest::new("SUD-NEG-L", 1)]
    );
}

// ------------------------------------------------------------------- properties

fn assert_well_formed(c: &Classification, catalog: &Catalog) {
    assert!((0.0..=1.0).contains(&c.confidence), "{c:?}");
    for i in &c.items {
        assert!(catalog.get(&i.sku).is_some(), "unknown SKU in {c:?}");
        assert!(i.qty >= 1, "{c:?}");
    }
    for s in &c.suggestions {
        assert!(catalog.get(s).is_some(), "unknown suggestion in {c:?}");
    }
    if matches!(c.intent, Intent::Question | Intent::Other) {
        assert!(c.items.is_empty(), "{c:?}");
    }
    if c.intent == Intent::Purchase && c.items.is_empty() {
        assert!(c.confidence < 0.5, "{c:?}");
    }
}

/// Words the classifier reacts to, to build comments that exercise every rule.
const VOCAB: &[&str] = &[
    "quiero",
    "me llevo",
    "no",
    "mejor",
    "la",
    "el",
    "#",
    "7",
    "2",
    "x",
    "dos",
    "par",
    "de",
    "polera",
    "roja",
    "M",
    "L",
    "azul",
    "cancela",
    "?",
    "!",
    ",",
    "si",
    "fuera",
    "tuviera",
    "sí",
    "claro",
    "🙄",
    "😍",
    "🙋‍♀️",
    "@ana",
    "bit.ly/x",
    "quero",
    "o",
    "é meu",
    "pra mim",
    "mine",
    "sold",
    "I'll take",
    "not",
    "cuánto",
    "precio",
    "ya",
    "compré",
    "zapatillas",
    "negras",
    "38",
    "jea",
    "-",
    "neg",
    "30",
    "siete",
    "number",
    "twenty",
    "one",
    "e",
    "y",
    "and",
    "calcetines",
    "pares",
    "todo",
    "solo",
    "guardas",
    "separame",
    "me",
    "la 99",
    "0",
    "999999999999",
    "ñ",
    "ÉÉÉ",
    "\n",
    "xl",
    "gg",
];

proptest! {
    // No regression file: the inputs that matter are pinned as examples above.
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics_and_items_are_catalog_skus(text in any::<String>()) {
        let (rules, catalog, _) = shared();
        assert_well_formed(&rules.classify_sync(&text, catalog), catalog);
    }

    #[test]
    fn vocabulary_soup_is_always_well_formed(words in proptest::collection::vec(proptest::sample::select(VOCAB), 0..14)) {
        let text = words.join(" ");
        let (rules, a, b) = shared();
        for catalog in [a, b] {
            assert_well_formed(&rules.classify_sync(&text, catalog), catalog);
        }
    }
}
