import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, MaxLength, Min, MinLength } from 'class-validator';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class ReviewIdParam {
  @ApiProperty({ format: 'uuid' }) @IsUUID() id: string;
}

export class ReviewsQueryDto {
  @ApiPropertyOptional({ enum: ['pending', 'destroyed', 'cancelled'], default: 'pending' })
  @IsOptional() @IsIn(['pending', 'destroyed', 'cancelled'], { message: 'status must be pending, destroyed or cancelled' })
  status?: 'pending' | 'destroyed' | 'cancelled';
}

export class ApproveDestructionDto {
  @ApiProperty({ description: 'Why destruction is approved now (kept in the audit trail)', minLength: 10 })
  @Transform(trim) @IsString() @MinLength(10) @MaxLength(2000)
  reason: string;
}

export class LegalHoldDto {
  @ApiProperty({ description: 'true puts the case on legal hold; false lifts it' })
  @IsBoolean()
  hold: boolean;

  @ApiProperty({ description: 'Why (e.g. the proceedings that need the record)', minLength: 10 })
  @Transform(trim) @IsString() @MinLength(10) @MaxLength(2000)
  reason: string;

  @ApiProperty({ description: 'The case version you read' })
  @IsInt() @Min(1)
  version: number;
}

export class RetentionReviewDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty() caseReference: string;
  @ApiProperty() authority: string;
  @ApiProperty({ nullable: true, type: String }) outcome: string | null;
  @ApiProperty({ nullable: true, type: String }) closedAt: string | null;
  @ApiProperty() dueOn: string;
  @ApiProperty({ description: 'The schedule rule that made it due' }) rule: string;
  @ApiProperty({ enum: ['pending', 'destroyed', 'cancelled'] }) status: string;
  @ApiProperty() listedAt: string;
  @ApiProperty({ nullable: true, type: String }) decidedAt: string | null;
}

export class ListDueResultDto {
  @ApiProperty() listed: number;
}
