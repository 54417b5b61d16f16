// PLOVER event types and their modes, as the server accepts them (src/intel/profile.c).
export const MODES = {
  AGREE: [],
  CONSULT: ['visit', 'host', 'third-party', 'multilateral', 'phone'],
  SUPPORT: [],
  CONCEDE: [],
  COOPERATE: [],
  AID: ['economic', 'military', 'humanitarian', 'asylum'],
  RETREAT: ['withdraw', 'release', 'return', 'disarm', 'ceasefire', 'access', 'resign', 'ease'],
  DEMAND: ['assist', 'change', 'yield', 'meet'],
  ACCUSE: ['disapprove', 'investigate'],
  REJECT: ['assist', 'change', 'yield', 'meet'],
  THREATEN: ['restrict', 'ban', 'arrest', 'relations', 'expel', 'territory', 'violence',
    'political'],
  PROTEST: ['demo', 'riot', 'strike-gen', 'strike-lim', 'strike-hun', 'boycott', 'obstruct'],
  SANCTION: ['convict', 'cancel', 'expel', 'withdraw', 'sever', 'discontinue'],
  MOBILIZE: ['troops', 'weapons', 'police', 'aerial', 'drone'],
  COERCE: ['confiscate', 'restrict', 'ban', 'censor', 'curfew', 'martial-law', 'arrest',
    'deport', 'withhold'],
  ASSAULT: ['abduct', 'beat', 'torture', 'execute', 'sexual', 'assassinate', 'destroy',
    'primitive', 'firearms', 'explosives', 'suicide-attack', 'heavy-weapons', 'unconventional',
    'cleansing', 'aerial', 'drone'],
};

// Most used in ceasefire monitoring first.
export const EVENTS = ['ASSAULT', 'COERCE', 'MOBILIZE', 'THREATEN', 'RETREAT', 'PROTEST',
  'SANCTION', 'ACCUSE', 'DEMAND', 'REJECT', 'AID', 'CONSULT', 'COOPERATE', 'CONCEDE', 'SUPPORT',
  'AGREE'];

export const MARKINGS = [['clear', 'TLP:CLEAR'], ['green', 'TLP:GREEN'], ['amber', 'TLP:AMBER'],
  ['amber+strict', 'TLP:AMBER+STRICT'], ['red', 'TLP:RED']];

export const RELIABILITY = [['A', 'A – completely reliable'], ['B', 'B – usually reliable'],
  ['C', 'C – fairly reliable'], ['D', 'D – not usually reliable'], ['E', 'E – unreliable'],
  ['F', 'F – cannot be judged']];

export const CREDIBILITY = [['1', '1 – confirmed by other sources'], ['2', '2 – probably true'],
  ['3', '3 – possibly true'], ['4', '4 – doubtful'], ['5', '5 – improbable'],
  ['6', '6 – cannot be judged']];
