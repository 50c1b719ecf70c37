// A column header that sorts its table: a button inside the <th>, with aria-sort saying the order.
export type SortOrder = 'ascending' | 'descending';

export interface SortState<K extends string> {
  key: K;
  order: SortOrder;
}

export function SortHeader<K extends string>({ column, label, sort, onSort }: { column: K; label: string; sort: SortState<K>; onSort: (next: SortState<K>) => void }) {
  const active = sort.key === column;
  return (
    <th aria-sort={active ? sort.order : 'none'} scope="col">
      <button type="button" class="sort" onClick={() => onSort({ key: column, order: active && sort.order === 'descending' ? 'ascending' : 'descending' })}>
        {label}
        {active ? (sort.order === 'descending' ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );
}
